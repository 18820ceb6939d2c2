"""How typed and clicked commands reach their skills, end to end over HTTP: the agent in its own process, Copilot
Studio's connector with `expectReplies` (no sign-in needed), and the Teams channel for mentions and installs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from localcloud.client import CopilotResult, LocalCloudClient, Recorded
from skills.help import WELCOME
from tests.support import ADAPTIVE_CARD, teams_user_signed_in

pytestmark = pytest.mark.asyncio

USER = "isaiah"


@pytest.fixture(scope="module")
async def signed_in_on_teams(client: LocalCloudClient, agent_endpoint: str) -> AsyncIterator[str]:
    """A Teams user with a token at the token service, signed out again at the end of the module."""
    async with teams_user_signed_in(client, agent_endpoint, USER) as user:
        yield user


async def ask(client: LocalCloudClient, agent_endpoint: str, text: str | None, **kw: Any) -> CopilotResult:
    """Send as Copilot Studio's connector with `expectReplies`: the replies come back in the HTTP answer."""
    result = await client.copilot(USER, text, delivery="expectReplies", agent_endpoint=agent_endpoint, **kw)
    assert result.status == 200
    return result


def cards(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [attachment["content"] for activity in activities for attachment in activity.get("attachments") or []
            if attachment.get("contentType") == ADAPTIVE_CARD]


def shown(activities: list[dict[str, Any]]) -> str:
    return json.dumps([activity for activity in activities if activity.get("type") == "message"])


def more_data(activities: list[dict[str, Any]]) -> dict[str, Any]:
    """What the More button of a reply's card posts back."""
    found = [action["data"] for card in cards(activities) for action in card.get("actions", [])
             if action.get("title") == "More"]
    assert found, shown(activities)
    return found[0]


def teams_activities(replies: list[Recorded]) -> list[dict[str, Any]]:
    return [reply.activity for reply in replies]


@pytest.mark.parametrize("text", ["/me", "me", "ME", "/Me", "  /me  "])
async def test_a_command_matches_with_or_without_the_slash_in_any_case(
    client: LocalCloudClient, agent_endpoint: str, text: str
) -> None:
    result = await ask(client, agent_endpoint, text)

    assert "Isaiah Langer" in shown(result.replies) and "Sales Rep" in shown(result.replies)


async def test_a_command_after_the_agents_mention_in_a_group_chat_is_understood(
    client: LocalCloudClient, agent_endpoint: str, signed_in_on_teams: str
) -> None:
    sent = await client.teams(signed_in_on_teams, "Calendar tomorrow", conversation_type="groupChat", mention=True,
                              agent_endpoint=agent_endpoint)

    assert sent.activity["text"].startswith("<at>")
    assert "Customer call: Fabrikam" in shown(teams_activities(sent.replies))


async def test_calendar_tomorrow_shows_tomorrows_meetings(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "calendar tomorrow")

    assert "Lunch with the team" in shown(result.replies)
    assert "Q3 budget review" not in shown(result.replies)


async def test_a_typed_commands_arguments_are_read_in_plain_words(client: LocalCloudClient,
                                                                   agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "/calendar for tomorrow pls")

    assert "Lunch with the team" in shown(result.replies)
    assert "Q3 budget review" not in shown(result.replies)


async def test_two_typed_commands_in_one_message_are_asked_about_not_run(client: LocalCloudClient,
                                                                         agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "/me and /files")

    assert "Which did you mean?" in json.dumps(cards(result.replies))
    assert "Sales Rep" not in shown(result.replies)


async def test_files_with_a_word_searches_for_it(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "files budget")

    assert "Budget 2026.xlsx" in shown(result.replies)
    assert "Meeting notes.docx" not in shown(result.replies)


async def test_calendar_with_an_unknown_range_lists_the_valid_ones(
    client: LocalCloudClient, agent_endpoint: str
) -> None:
    result = await ask(client, agent_endpoint, "/calendar nonsense")

    assert any("today, tomorrow, week, next" in (reply.get("text") or "") for reply in result.replies)


@pytest.mark.parametrize("command", ["/calendar week", "/files"])
async def test_the_more_buttons_submit_shows_the_next_page(client: LocalCloudClient, agent_endpoint: str,
                                                           command: str) -> None:
    first = await ask(client, agent_endpoint, command)

    second = await ask(client, agent_endpoint, None, value=more_data(first.replies))

    assert listed(second.replies) and not listed(second.replies) & listed(first.replies)
    assert cards(second.replies)[0]["body"][0] == cards(first.replies)[0]["body"][0]


def listed(activities: list[dict[str, Any]]) -> set[str]:
    """The events or files a reply lists, one line each in its plain-text fallback."""
    return {line for card in cards(activities) for line in card.get("fallbackText", "").splitlines()
            if line.startswith("- ")}


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[BaseTestServer, list[str]]]:
    """A server that is not Microsoft Graph, and the paths anyone asked it for."""
    visited: list[str] = []

    async def record(request: web.Request) -> web.Response:
        visited.append(request.path_qs)
        return web.json_response({"value": []})

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server, visited


async def test_a_next_link_to_another_host_is_refused_and_never_followed(
    client: LocalCloudClient, agent_endpoint: str, elsewhere: tuple[BaseTestServer, list[str]]
) -> None:
    server, visited = elsewhere
    first = await ask(client, agent_endpoint, "/calendar week")
    forged = {**more_data(first.replies), "nextLink": f"{server.make_url('/v1.0/me/calendarView')}?$skiptoken=2"}

    result = await ask(client, agent_endpoint, None, value=forged)

    assert visited == []
    assert "does not point to Microsoft Graph" in shown(result.replies)


async def test_a_link_in_a_files_more_button_is_never_followed(
    client: LocalCloudClient, agent_endpoint: str, elsewhere: tuple[BaseTestServer, list[str]]
) -> None:
    server, visited = elsewhere
    link = f"{server.make_url('/v1.0/search/query')}?page=2"

    result = await ask(client, agent_endpoint, None, value={"command": "/files", "nextLink": link, "from": "x"})

    assert visited == [] and "Your recent files" in shown(result.replies)


async def test_adding_the_agent_to_a_group_chat_gets_the_welcome_card(client: LocalCloudClient,
                                                                      agent_endpoint: str) -> None:
    installed = await client.teams_install("alex", conversation_type="groupChat", agent_endpoint=agent_endpoint)

    assert installed.status in (200, 202)
    assert WELCOME in json.dumps(cards(teams_activities(installed.replies)))


@pytest.mark.parametrize("surface", ["teams", "m365copilot"])
async def test_installing_the_agent_in_a_one_on_one_chat_sends_no_welcome_so_the_prompt_starters_show(
    client: LocalCloudClient, agent_endpoint: str, surface: str
) -> None:
    installed = await client.teams_install("alex", surface=surface, agent_endpoint=agent_endpoint)

    assert installed.status in (200, 202)
    assert [reply for reply in installed.replies if reply.type == "message"] == []


async def test_anything_unknown_gets_help(client: LocalCloudClient, agent_endpoint: str) -> None:
    result = await ask(client, agent_endpoint, "what's the weather like?")

    help_cards = cards(result.replies)
    assert help_cards and all(command in json.dumps(help_cards) for command in ("/me", "/calendar", "/files"))
