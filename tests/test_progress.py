"""Progress the way Teams and Microsoft 365 Copilot show it, end to end with the agent in its own process: a stream (an
informative update, then the final message with the card) in a one-on-one chat and in Copilot, a typing indicator in a
group chat; a stream's requests lost or refused on the way, and the user's Stop; and Microsoft 365 Copilot as a third
surface, signed in with Teams SSO first."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from localcloud.browser import magic_code_for
from localcloud.client import LocalCloudClient, LocalCloudError, Recorded, TeamsResult
from tests.support import OAUTH_CARD, RunningAgent, adaptive_cards, is_profile_of, oauth_links, teams_user_signed_in

pytestmark = pytest.mark.asyncio

TEAMS_USER = "alex"
COPILOT_USER = "megan"


@pytest.fixture(scope="module")
async def signed_in(client: LocalCloudClient, agent_endpoint: str) -> AsyncIterator[str]:
    """A Teams user with a token at the token service, signed out again at the end of the module."""
    async with teams_user_signed_in(client, agent_endpoint, TEAMS_USER) as user:
        yield user


@pytest.fixture
async def slow_graph(client: LocalCloudClient) -> AsyncIterator[None]:
    """Every Graph call takes 1.5 s, so the agent shows progress (it does after `PROGRESS_DELAY` of work)."""
    await client.add_fault("graph", "/v1.0/*", latency_ms=1500)
    try:
        yield
    finally:
        await client.clear_faults()


def stream_info(reply: Recorded) -> dict[str, Any] | None:
    return next((entity for entity in reply.activity.get("entities") or [] if entity.get("type") == "streaminfo"),
                None)


def streamed(replies: list[Recorded]) -> list[tuple[str, str, int | None, str]]:
    """The stream's activities: (type, streamType, streamSequence, text)."""
    return [(reply.type, info["streamType"], info.get("streamSequence"), reply.text or "")
            for reply in replies if (info := stream_info(reply)) is not None]


async def no_refusals(client: LocalCloudClient, sent: TeamsResult) -> dict[str, Any]:
    """The conversation's stream report, once no request of `sent`'s turn was refused or dropped (a personal chat is
    one per user, so the report also holds what earlier tests' turns left there)."""
    report = await client.streams(sent.conversation)
    dropped = [activity for activity in report["dropped"] if activity.get("replyToId") == sent.activity["id"]]
    assert refused_in_turn(report, sent) == [] and dropped == [], report
    return report


async def test_a_quick_answer_comes_at_once_without_a_stream(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str
) -> None:
    sent = await client.teams(signed_in, "/me", agent_endpoint=agent_endpoint)

    assert streamed(sent.replies) == []
    assert [reply for reply in sent.replies if reply.type == "message" and is_profile_of(signed_in)(reply)]


async def test_a_calendar_command_in_a_personal_chat_streams_an_informative_update_then_the_card(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    sent = await client.teams(signed_in, "what's on my calendar tomorrow?", agent_endpoint=agent_endpoint)

    steps = streamed(sent.replies)
    assert steps[0] == ("typing", "informative", 1, "Reading your calendar…")
    assert steps[-1][:3] == ("message", "final", None) and steps[-1][3].startswith("Your calendar")
    first, final = [reply for reply in sent.replies if stream_info(reply)][::len(steps) - 1]
    assert final.activity["id"] == first.activity["id"], "the final message is the streamed message"
    (card,) = adaptive_cards([final])
    assert "Lunch with the team" in json.dumps(card)
    report = await no_refusals(client, sent)
    turn = [stream for stream in report["streams"] if stream["replyToId"] == sent.activity["id"]]
    assert len(turn) == 1 and turn[0]["completed"], "one stream per turn, finished"


async def test_every_command_closes_its_stream_with_its_answer(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    for text, shown in (("/me", "Alex Wilber"), ("find the budget spreadsheet", "Budget 2026.xlsx"),
                        ("/calendar week", "Your calendar")):
        sent = await client.teams(signed_in, text, agent_endpoint=agent_endpoint)

        kinds = [(kind, stream_type) for kind, stream_type, _, _ in streamed(sent.replies)]
        assert kinds == [("typing", "informative"), ("message", "final")], (text, kinds)
        assert shown in json.dumps(sent.replies[-1].activity), text
    await no_refusals(client, sent)


async def test_a_graph_failure_ends_the_stream_with_its_error_card(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str
) -> None:
    await client.add_fault("graph", "/v1.0/me/calendarView", status=403, latency_ms=1500)
    try:
        sent = await client.teams(signed_in, "/calendar", agent_endpoint=agent_endpoint)
    finally:
        await client.clear_faults()

    assert [step[:2] for step in streamed(sent.replies)] == [("typing", "informative"), ("message", "final")]
    assert "Permission missing" in json.dumps(adaptive_cards(sent.replies[-1:]))
    await no_refusals(client, sent)


async def test_a_progress_update_the_channel_refuses_leaves_the_answer_and_the_turn_alone(
    client: LocalCloudClient, agent: RunningAgent, signed_in: str, slow_graph: None
) -> None:
    """The SDK takes any Teams 403 for the user's Stop and would drop the answer; it goes as a plain message. (A
    channel that takes nothing at all is `tests/test_fault_matrix.py`'s Bot Connector row.)"""
    logged = agent.log_file.stat().st_size
    await client.add_fault("channels", "/teams/v3/conversations/*", status=403, count=1, method="POST")
    sent = await client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent.endpoint)

    assert sent.status in (200, 202)
    assert any(reply.type == "message" and adaptive_cards([reply]) for reply in sent.replies)
    await asyncio.sleep(0.5)  # an unretrieved task exception is logged when the task is collected
    with agent.log_file.open("rb") as log:
        log.seek(logged)
        written = log.read().decode(errors="replace")
    assert "Task exception was never retrieved" not in written and "turn failed" not in written


def answers(sent: TeamsResult) -> list[Recorded]:
    """The turn's messages that carry a card."""
    return [reply for reply in sent.replies if reply.type == "message" and adaptive_cards([reply])]


def refused_in_turn(report: dict[str, Any], sent: TeamsResult) -> list[dict[str, Any]]:
    return [refusal for refusal in report["refused"] if refusal["activity"].get("replyToId") == sent.activity["id"]]


async def test_a_stream_start_whose_answer_was_lost_is_not_sent_again_and_the_answer_still_comes(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    """Teams took the start and opened the stream; sent again, it would be a second stream in a chat that allows
    one at a time."""
    await client.add_fault("channels", "/teams/v3/conversations/*", lose_answer=True, stream_type="informative",
                           count=1)
    try:
        sent = await client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent_endpoint)
    finally:
        await client.clear_faults()
    report = await client.streams(sent.conversation)
    with contextlib.suppress(LocalCloudError):
        await client.stop_stream(sent.conversation)  # the stream the lost answer named, left open for two minutes

    assert refused_in_turn(report, sent) == []
    assert len([stream for stream in report["streams"] if stream["replyToId"] == sent.activity["id"]]) == 1
    (answer,) = answers(sent)
    assert stream_info(answer) is None and "Lunch with the team" in json.dumps(adaptive_cards([answer]))


async def test_a_final_message_whose_answer_was_lost_is_sent_again_and_the_card_comes_once(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    """Teams took it: sent again, it is answered 403 "already completed", which means delivered."""
    await client.add_fault("channels", "/teams/v3/conversations/*", lose_answer=True, stream_type="final", count=1)
    try:
        sent = await client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent_endpoint)
    finally:
        await client.clear_faults()

    (answer,) = answers(sent)
    assert stream_info(answer) is not None and "Lunch with the team" in json.dumps(adaptive_cards([answer]))
    assert [refusal["status"] for refusal in refused_in_turn(await client.streams(sent.conversation), sent)] == [403]


async def test_an_informative_update_the_channel_never_takes_leaves_the_answer(
    client: LocalCloudClient, agent: RunningAgent, signed_in: str, slow_graph: None
) -> None:
    """The update fails once the answer is ready to go: the answer goes as a plain message all the same."""
    failed = agent.failed_turns()
    await client.add_fault("channels", "/teams/v3/conversations/*", status=503, latency_ms=800,
                           stream_type="informative", count=4)
    try:
        sent = await client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent.endpoint)
    finally:
        await client.clear_faults()

    (answer,) = answers(sent)
    assert stream_info(answer) is None and "Lunch with the team" in json.dumps(adaptive_cards([answer]))
    assert agent.failed_turns() == failed


async def test_after_the_user_presses_stop_the_agent_sends_nothing_more_for_the_turn(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    before = await client.teams(signed_in, "/help", agent_endpoint=agent_endpoint)
    turn = asyncio.create_task(client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent_endpoint))
    shown, last = [], before.last
    while not any(stream_info(reply) for reply in shown):
        more, last = await client.activities(before.conversation, after=last, wait=10)
        assert more or not turn.done(), "the turn ended without streaming"
        shown += more
    await client.stop_stream(before.conversation)
    sent = await turn

    assert [step[:2] for step in streamed(sent.replies)] == [("typing", "informative")]
    assert [reply for reply in sent.replies if reply.type == "message"] == []
    (refusal,) = refused_in_turn(await client.streams(sent.conversation), sent)
    assert refusal["message"] == "Content stream was canceled by user.", "the agent learnt of the Stop, and stopped"


async def test_a_calendar_command_in_a_group_chat_shows_typing_then_the_card(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    sent = await client.teams(signed_in, "/calendar tomorrow", conversation_type="groupChat", mention=True,
                              agent_endpoint=agent_endpoint)

    assert [reply.type for reply in sent.replies][:1] == ["typing"]
    assert all(stream_info(reply) is None for reply in sent.replies)
    cards = [reply for reply in sent.replies if reply.type == "message"]
    assert len(cards) == 1 and "Lunch with the team" in json.dumps(adaptive_cards(cards))
    assert (await client.streams(sent.conversation))["refused"] == []


async def test_two_commands_at_once_in_one_chat_both_get_their_answer(
    client: LocalCloudClient, agent_endpoint: str, signed_in: str, slow_graph: None
) -> None:
    """Teams allows one stream per chat at a time: the command that cannot stream still answers, plainly."""
    first, second = await asyncio.gather(
        client.teams(signed_in, "/calendar tomorrow", agent_endpoint=agent_endpoint),
        client.teams(signed_in, "/me", agent_endpoint=agent_endpoint))

    replies = [*first.replies, *second.replies]
    for sent in (first, second):
        assert any(reply.type == "message" and reply.activity.get("replyToId") == sent.activity["id"]
                   for reply in replies), sent.activity["text"]


async def test_copilot_studio_gets_a_typing_indicator_not_a_stream(client: LocalCloudClient, agent_endpoint: str,
                                                                   slow_graph: None) -> None:
    result = await client.copilot("isaiah", "/me", delivery="expectReplies", agent_endpoint=agent_endpoint)

    assert [reply["type"] for reply in result.replies][:1] == ["typing"]
    assert not any(entity.get("type") == "streaminfo" for reply in result.replies
                   for entity in reply.get("entities") or [])
    assert "Isaiah Langer" in json.dumps(result.replies)


async def test_in_m365_copilot_sign_in_is_single_sign_on_first_then_every_command_answers(
    client: LocalCloudClient, agent_endpoint: str, slow_graph: None
) -> None:
    await client.m365_copilot(COPILOT_USER, "/logout", agent_endpoint=agent_endpoint)
    asked = await client.m365_copilot(COPILOT_USER, "who's my manager?", agent_endpoint=agent_endpoint)

    (card,) = [attachment["content"] for reply in asked.replies for attachment in reply.attachments
               if attachment["contentType"] == OAUTH_CARD]
    assert card["tokenExchangeResource"]["uri"].startswith("api://botid-"), "the client tries SSO first"
    exchanged = await client.teams_sso(COPILOT_USER, surface="m365copilot", agent_endpoint=agent_endpoint)
    assert exchanged.status == 200
    await client.wait_for_reply(asked.conversation, is_profile_of(COPILOT_USER), timeout=15, after=asked.last)

    for text, shown in (("what's on my calendar today", "Your calendar"),
                        ("find the budget spreadsheet", "Budget 2026.xlsx")):
        sent = await client.m365_copilot(COPILOT_USER, text, agent_endpoint=agent_endpoint)
        steps = streamed(sent.replies)
        assert [step[:2] for step in steps] == [("typing", "informative"), ("message", "final")], text
        assert shown in json.dumps(sent.replies[-1].activity), text
    await no_refusals(client, asked)


async def test_in_m365_copilot_the_sign_in_card_is_the_fallback_when_sso_needs_consent(
    client: LocalCloudClient, agent_endpoint: str
) -> None:
    user = "lidia"
    await client.m365_copilot(user, "/logout", agent_endpoint=agent_endpoint)
    asked = await client.m365_copilot(user, "/me", agent_endpoint=agent_endpoint)
    await client.consent_required(user, True)
    try:
        exchanged = await client.teams_sso(user, surface="m365copilot", agent_endpoint=agent_endpoint)
    finally:
        await client.consent_required(user, False)
    assert exchanged.status == 412, "Teams then shows the card's sign-in button"

    code = await magic_code_for(oauth_links(asked.replies)[0], user, ca_file=await client.ca_file())
    typed = await client.m365_copilot(user, code, agent_endpoint=agent_endpoint)
    await client.wait_for_reply(typed.conversation, is_profile_of(user), timeout=15, after=asked.last)
    await client.m365_copilot(user, "/logout", agent_endpoint=agent_endpoint)
