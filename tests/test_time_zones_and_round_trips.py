"""Right against Microsoft 365's rules, end to end: the agent in its own process against a local Graph that refuses
what Graph refuses (unsupported `Prefer: outlook.timezone` names among them) and counts what it answers.

- Whatever zone a Teams chat reports, a user sees their meetings at their mailbox's local times.
- `/me`, `/calendar` and `/files` each cost one Graph round trip, on Teams and on Copilot Studio's connector.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from localcloud.client import LocalCloudClient
from localcloud.tenant import USERS
from tests.support import ADAPTIVE_CARD, sign_in

pytestmark = pytest.mark.asyncio

ZONES_REPORTED = [("Europe/Amsterdam", "megan"), ("America/Los_Angeles", "diego"), ("Asia/Kolkata", "isaiah"),
                  ("UTC", "patti"), ("Mars/Olympus_Mons", "alex")]
"""A zone Graph refuses by its IANA name, Pacific, India, UTC (what the Agents Playground always reports) and a name
nobody knows, each from a user whose mailbox is in another zone."""


@pytest.fixture(scope="module")
async def signed_in(client: LocalCloudClient, agent_endpoint: str) -> AsyncIterator[list[str]]:
    """Teams users with a token at the token service, signed out again at the end of the module."""
    users: list[str] = []
    for _, user in ZONES_REPORTED:
        await sign_in(client, agent_endpoint, user, users)
    yield users
    for user in users:
        await client.teams(user, "/logout", agent_endpoint=agent_endpoint)


async def graph_trips(client: LocalCloudClient, user: str, act: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
    """The requests the local Graph answered for `user` while `act` ran."""
    _, last = await client.graph_requests()
    await act()
    entries, _ = await client.graph_requests(after=last)
    return [entry for entry in entries if entry["user"] == user]


def fallback_text(activities: list[dict[str, Any]]) -> str:
    return "\n".join(attachment["content"].get("fallbackText", "") for activity in activities
                     for attachment in activity.get("attachments") or [] if attachment["contentType"] == ADAPTIVE_CARD)


def refused(entries: list[dict[str, Any]]) -> list[int]:
    """Every 4xx the local Graph answered, whole requests and `$batch` items."""
    statuses = [entry["status"] for entry in entries] + [item["status"] for entry in entries
                                                         for item in entry.get("items", [])]
    return [status for status in statuses if 400 <= status < 500]


@pytest.mark.parametrize(("chat_zone", "user"), ZONES_REPORTED)
async def test_a_teams_user_sees_todays_meetings_at_their_mailboxs_local_times_whatever_zone_the_chat_reports(
        client: LocalCloudClient, agent_endpoint: str, signed_in: list[str], chat_zone: str, user: str) -> None:
    mailbox_zone = next(known.time_zone for known in USERS if known.username == user)
    replies: list[dict[str, Any]] = []

    async def ask() -> None:
        sent = await client.teams(user, "/calendar", local_timezone=chat_zone, agent_endpoint=agent_endpoint)
        replies.extend(reply.activity for reply in sent.replies)

    answered = await graph_trips(client, user, ask)
    text = fallback_text(replies)

    assert f"({mailbox_zone}):" in text
    assert "- 11:00–12:00: Q3 budget review" in text and "- 15:30–16:15: Design sync" in text
    assert "- All day: Team offsite" in text and "Lunch with the team" not in text
    assert answered and refused(answered) == []


@pytest.mark.parametrize("command", ["/me", "/calendar", "/files", "/files budget", "/calendar week"])
async def test_each_command_costs_one_graph_round_trip_on_teams(client: LocalCloudClient, agent_endpoint: str,
                                                                signed_in: list[str], command: str) -> None:
    """The chat reports the device's zone, here the same as the mailbox's: the events come in the same `$batch`."""
    answered = await graph_trips(client, "megan", lambda: client.teams(
        "megan", command, local_timezone="America/Los_Angeles", agent_endpoint=agent_endpoint))

    assert len(answered) == 1 and refused(answered) == []


@pytest.mark.parametrize("command", ["/me", "/calendar", "/files", "/files budget", "/calendar tomorrow"])
async def test_each_command_costs_one_graph_round_trip_on_the_copilot_studio_connector(
        client: LocalCloudClient, agent_endpoint: str, command: str) -> None:
    """Copilot Studio reports no zone: the first `/calendar` for a user learns the mailbox's (a second request,
    once); after it, every command is one round trip."""
    await client.copilot("lidia", "/calendar", agent_endpoint=agent_endpoint)

    answered = await graph_trips(client, "lidia", lambda: client.copilot("lidia", command,
                                                                         agent_endpoint=agent_endpoint))

    assert len(answered) == 1 and refused(answered) == []
