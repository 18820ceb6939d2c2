"""Plain words over HTTP, with the agent in its own process: they reach the same commands with the same arguments on
the Copilot Studio route (`expectReplies`, no sign-in needed) as on Teams, and what is unclear gets the help card with
one suggestion, or a question."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.client import CopilotResult, LocalCloudClient
from skills.help import CANNOT, NOT_UNDERSTOOD
from skills.logout import CONNECTOR_NOTE
from tests.support import ADAPTIVE_CARD

pytestmark = pytest.mark.asyncio

USER = "diego"


async def ask(client: LocalCloudClient, agent_endpoint: str, text: str) -> CopilotResult:
    result = await client.copilot(USER, text, delivery="expectReplies", agent_endpoint=agent_endpoint)
    assert result.status == 200
    return result


def cards(result: CopilotResult) -> list[dict[str, Any]]:
    return [attachment["content"] for reply in result.replies for attachment in reply.get("attachments") or []
            if attachment.get("contentType") == ADAPTIVE_CARD]


def buttons(result: CopilotResult) -> list[tuple[str, str]]:
    return [(action["title"], action["data"]["command"])
            for card in cards(result) for action in card.get("actions", [])]


async def test_a_question_about_tomorrow_shows_tomorrows_calendar(client: LocalCloudClient,
                                                                  agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "whats on my calender tmrw")

    assert "Lunch with the team" in json.dumps(cards(result))


async def test_asking_for_a_file_in_words_searches_for_it(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "find the budget spreadsheet")

    shown = json.dumps(cards(result))
    assert "Budget 2026.xlsx" in shown and "Meeting notes.docx" not in shown


async def test_asking_for_the_manager_shows_the_profile(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "who's my manager?")

    assert "Diego Siciliani" in json.dumps(cards(result))


async def test_sign_me_out_signs_out_and_never_shows_the_profile(client: LocalCloudClient,
                                                                 agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "sign me out")

    assert [reply.get("text") for reply in result.replies if reply["type"] == "message"] == [CONNECTOR_NOTE]


async def test_what_is_not_understood_gets_the_help_card_with_one_suggestion(client: LocalCloudClient,
                                                                              agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "cancel my meeting tomorrow")

    (card,) = cards(result)
    assert "Did you mean “What's on my calendar tomorrow?”" in json.dumps(card, ensure_ascii=False)
    assert buttons(result)[0] == ("What's on my calendar tomorrow?", "/calendar tomorrow")
    assert "/calendar" in json.dumps(card) and "/files" in json.dumps(card)


async def test_what_nothing_points_to_gets_the_help_card_without_a_suggestion(client: LocalCloudClient,
                                                                               agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "tell me a joke")

    (card,) = cards(result)
    shown = json.dumps(card, ensure_ascii=False)
    assert NOT_UNDERSTOOD in shown and "Did you mean" not in shown and "/calendar" in shown


async def test_an_action_the_agent_does_not_do_is_answered_with_what_it_can_do(client: LocalCloudClient,
                                                                              agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "block 2pm tomorrow for focus time")

    (card,) = cards(result)
    shown = json.dumps(card, ensure_ascii=False)
    assert CANNOT in shown and "/calendar" in shown and "/files" in shown
    assert "Lunch with the team" not in shown


async def test_an_unknown_slash_command_is_not_run_but_suggested(client: LocalCloudClient,
                                                                 agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "/calender tomorrow")

    assert "Lunch with the team" not in json.dumps(cards(result))
    assert buttons(result)[0] == ("What's on my calendar tomorrow?", "/calendar tomorrow")


async def test_something_ambiguous_is_asked_back(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "presentation for tomorrow's meeting")

    assert "Which did you mean?" in json.dumps(cards(result))
    assert [command for _, command in buttons(result)] == ["/calendar tomorrow", "/files meeting"]
