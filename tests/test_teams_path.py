"""The Teams path end to end: the agent in its own process, the local cloud's Teams channel, Bot Service OAuth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cards.sign_in import SIGN_IN_SUMMARY
from localcloud.browser import magic_code_for
from localcloud.client import LocalCloudClient, Recorded
from localcloud.launcher import CloudProcess
from tests.support import adaptive_cards, ask_signed_out, is_profile_of, oauth_links

pytestmark = pytest.mark.asyncio



@pytest.fixture
async def teams(cloud: CloudProcess, agent_endpoint: str) -> AsyncIterator[Any]:
    """Send as a Teams user to the agent; returns the client with the agent endpoint bound."""
    async with LocalCloudClient(cloud.url) as client:
        yield _Bound(client, agent_endpoint)


class _Bound:
    def __init__(self, client: LocalCloudClient, agent_endpoint: str) -> None:
        self.client = client
        self.agent_endpoint = agent_endpoint

    async def say(self, user: str, text: str):
        return await self.client.teams(user, text, agent_endpoint=self.agent_endpoint)

    async def ask_signed_out(self, user: str, text: str):
        return await ask_signed_out(self.client, self.agent_endpoint, user, text)

    async def invoke(self, user: str, name: str, value: Any = None, **kw: Any):
        return await self.client.teams_invoke(user, name, value, agent_endpoint=self.agent_endpoint, **kw)

    async def sso(self, user: str, **kw: Any):
        return await self.client.teams_sso(user, agent_endpoint=self.agent_endpoint, **kw)


def _oauth_link(replies: list[Recorded]) -> str:
    links = oauth_links(replies)
    assert links, [reply.activity for reply in replies]
    return links[0]


def _adaptive_cards(reply: Recorded) -> list[dict[str, Any]]:
    return adaptive_cards([reply])


async def test_me_asks_a_signed_out_teams_user_to_sign_in_with_an_oauth_card_that_says_why(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("megan", "/me")

    assert _oauth_link(sent.replies).startswith("http://127.0.0.1:")
    [card] = [reply for reply in sent.replies if oauth_links([reply])]
    assert card.activity["summary"] == SIGN_IN_SUMMARY
    assert card.attachments[0]["content"]["text"].startswith("Sign in to Microsoft 365: ")
    await teams.say("megan", "cancel")


async def test_the_magic_code_completes_sign_in_and_answers_the_original_command(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("adele", "/me")
    code = await magic_code_for(_oauth_link(sent.replies), "adele", ca_file=await teams.client.ca_file())

    typed = await teams.say("adele", code)

    reply = await teams.client.wait_for_reply(typed.conversation, is_profile_of("adele"), timeout=15, after=sent.last)
    assert "Retail Manager" in json.dumps(_adaptive_cards(reply))


async def test_verify_state_completes_sign_in_like_the_magic_code(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("diego", "me")
    code = await magic_code_for(_oauth_link(sent.replies), "diego", ca_file=await teams.client.ca_file())

    verified = await teams.invoke("diego", "signin/verifyState", {"state": code})

    assert verified.status == 200
    await teams.client.wait_for_reply(sent.conversation, is_profile_of("diego"), timeout=15, after=sent.last)


async def test_teams_sso_token_exchange_signs_in_without_a_card(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("lidia", "/me")
    _oauth_link(sent.replies)

    exchanged = await teams.sso("lidia")

    assert exchanged.status == 200
    await teams.client.wait_for_reply(sent.conversation, is_profile_of("lidia"), timeout=15, after=sent.last)


async def test_token_exchange_that_needs_consent_answers_412_with_a_token_exchange_invoke_response(
    teams: _Bound
) -> None:
    sent = await teams.ask_signed_out("isaiah", "/me")
    _oauth_link(sent.replies)
    await teams.client.consent_required("isaiah", True)
    try:
        exchanged = await teams.sso("isaiah")
    finally:
        await teams.client.consent_required("isaiah", False)

    assert exchanged.status == 412
    assert exchanged.body == {"id": exchanged.activity["value"]["id"], "connectionName": "graph",
                              "failureDetail": "The agent is unable to exchange the token. Proceed with regular login."}


async def test_duplicate_token_exchanges_from_two_clients_sign_in_once(teams: _Bound) -> None:
    sent = await teams.say("patti", "/me")
    _oauth_link(sent.replies)
    value = {"id": "one-sign-in", "connectionName": "graph"}

    first, second = await asyncio.gather(teams.sso("patti", value=value), teams.sso("patti", value=value))

    assert {first.status, second.status} == {200}
    await teams.client.wait_for_reply(sent.conversation, is_profile_of("patti"), timeout=15, after=sent.last)
    await asyncio.sleep(3)  # the SDK replays asynchronously: a second sign-in would have answered by now
    replies, _ = await teams.client.activities(sent.conversation, after=sent.last)
    assert sum(1 for reply in replies if is_profile_of("patti")(reply)) == 1


async def test_a_command_asked_while_sign_in_is_pending_gets_a_fresh_card_and_runs_after_sign_in(
    teams: _Bound
) -> None:
    first = await teams.ask_signed_out("alex", "/me")
    _oauth_link(first.replies)

    again = await teams.say("alex", "/calendar")
    code = await magic_code_for(_oauth_link(again.replies), "alex", ca_file=await teams.client.ca_file())
    typed = await teams.say("alex", code)

    assert any("fresh sign-in card" in (reply.text or "") and "cancel" in (reply.text or "")
               for reply in again.replies)
    answer = await teams.client.wait_for_reply(typed.conversation, lambda reply: bool(_adaptive_cards(reply)),
                                               timeout=15, after=again.last)
    assert "Your calendar" in json.dumps(_adaptive_cards(answer))  # the newest command, not /me


async def test_a_message_that_needs_no_sign_in_is_answered_while_sign_in_is_pending_and_cancel_ends_it(
    teams: _Bound
) -> None:
    sent = await teams.ask_signed_out("alex", "/calendar")
    _oauth_link(sent.replies)

    typed = await teams.say("alex", "what is going on?")
    cancelled = await teams.say("alex", "cancel")
    again = await teams.say("alex", "/calendar")

    assert any("/calendar" in json.dumps(_adaptive_cards(reply)) for reply in typed.replies)  # the help card
    assert any("cancelled" in (reply.text or "").lower() for reply in cancelled.replies)
    assert oauth_links(again.replies) and not any("fresh" in (reply.text or "") for reply in again.replies)
    await teams.say("alex", "cancel")


async def test_a_wrong_magic_code_is_answered_and_the_sign_in_stays_open(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("lidia", "/me")
    link = _oauth_link(sent.replies)

    wrong = await teams.say("lidia", "000000")
    code = await magic_code_for(link, "lidia", ca_file=await teams.client.ca_file())
    right = await teams.say("lidia", code)

    assert any("didn't work" in (reply.text or "") for reply in wrong.replies)
    await teams.client.wait_for_reply(right.conversation, is_profile_of("lidia"), timeout=15, after=sent.last)


async def test_a_failed_teams_sign_in_is_answered_with_what_to_do(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("isaiah", "/calendar")
    _oauth_link(sent.replies)

    failed = await teams.invoke("isaiah", "signin/failure",
                                {"code": "resourcematchfailed", "message": "Resource match failed"})
    after = await teams.say("isaiah", "help")

    assert failed.status == 200
    texts = " ".join(reply.text or "" for reply in failed.replies)
    assert "didn't complete" in texts and "Resource match failed" in texts and "again" in texts
    assert any(_adaptive_cards(reply) for reply in after.replies)


async def test_logout_while_sign_in_is_pending_signs_out(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("diego", "/files")
    _oauth_link(sent.replies)

    logged_out = await teams.say("diego", "/logout")
    after = await teams.say("diego", "help")

    assert any("signed out" in (reply.text or "").lower() for reply in logged_out.replies)
    assert any(_adaptive_cards(reply) for reply in after.replies)


async def test_logout_signs_out_so_me_asks_to_sign_in_again(teams: _Bound) -> None:
    sent = await teams.ask_signed_out("megan", "/me")
    code = await magic_code_for(_oauth_link(sent.replies), "megan", ca_file=await teams.client.ca_file())
    typed = await teams.say("megan", code)
    await teams.client.wait_for_reply(typed.conversation, is_profile_of("megan"), timeout=15, after=sent.last)

    logged_out = await teams.say("megan", "/logout")
    again = await teams.say("megan", "/me")

    assert any("signed out" in (reply.text or "").lower() for reply in logged_out.replies)
    _oauth_link(again.replies)
