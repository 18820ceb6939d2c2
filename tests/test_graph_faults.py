"""Graph failing under a signed-in Teams user: the local Graph throttles, fails, rejects or stalls on request, and the
agent answers each with the right message, within the turn's deadline, with a normal HTTP status and no raised turn."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from localcloud.client import LocalCloudClient, Recorded, TeamsResult
from localcloud.launcher import CloudProcess
from tests.support import ADAPTIVE_CARD, OAUTH_CARD, RunningAgent, sign_in

pytestmark = pytest.mark.asyncio

BATCH = "/v1.0/$batch"
GENERIC_APOLOGY = "something went wrong"
USER = "adele"
"""Signed in once for the module; the 401 test signs out its own user."""


@pytest.fixture(scope="module")
async def signed_in(cloud: CloudProcess, agent: RunningAgent) -> AsyncIterator[list[str]]:
    """Users this module signed in; signed out again at the end so other modules find the token service as it was."""
    users: list[str] = []
    yield users
    async with LocalCloudClient(cloud.url) as client:
        for user in users:
            await client.teams(user, "cancel", agent_endpoint=agent.endpoint)  # a sign-in the test left pending
            await client.teams(user, "/logout", agent_endpoint=agent.endpoint)


@pytest.fixture
async def teams(cloud: CloudProcess, agent: RunningAgent, signed_in: list[str]) -> AsyncIterator[LocalCloudClient]:
    """A control-API client; the user is signed in and Graph has no faults before the test, none after it, and the
    agent logged no failed turn in between."""
    async with LocalCloudClient(cloud.url) as client:
        await sign_in(client, agent.endpoint, USER, signed_in)
        failed_before = agent.failed_turns()
        try:
            yield client
        finally:
            await client.clear_faults()
        assert agent.failed_turns() == failed_before


def cards(replies: list[Recorded]) -> list[dict[str, Any]]:
    return [attachment["content"] for reply in replies for attachment in reply.attachments
            if attachment.get("contentType") == ADAPTIVE_CARD]


def shown(result: TeamsResult) -> str:
    return json.dumps([reply.activity for reply in result.replies if reply.type == "message"])


def buttons(result: TeamsResult) -> list[str]:
    return [action["title"] for card in cards(result.replies) for action in card.get("actions", [])]


async def timed(teams: LocalCloudClient, agent: RunningAgent, text: str, user: str = USER) -> tuple[TeamsResult, float]:
    started = time.monotonic()
    result = await teams.teams(user, text, agent_endpoint=agent.endpoint)
    return result, time.monotonic() - started


async def test_throttling_with_retry_after_says_busy_and_when_to_try_again_at_once(
    teams: LocalCloudClient, agent: RunningAgent
) -> None:
    await teams.add_fault("graph", BATCH, status=429, retry_after=30)

    result, seconds = await timed(teams, agent, "/me")

    assert result.status in (200, 202)
    assert "busy" in shown(result) and "try again in 30 s" in shown(result).lower()
    assert seconds < 3


async def test_a_persisting_503_gets_an_apology_with_a_retry_button(
    teams: LocalCloudClient, agent: RunningAgent
) -> None:
    await teams.add_fault("graph", BATCH, status=503)

    result, seconds = await timed(teams, agent, "/me")

    assert result.status in (200, 202)
    assert "sorry" in shown(result).lower() and GENERIC_APOLOGY not in shown(result).lower()
    assert buttons(result) == ["Retry"]
    assert seconds < 8


async def test_a_403_names_the_missing_permission(
    teams: LocalCloudClient, agent: RunningAgent
) -> None:
    await teams.add_fault("graph", "/v1.0/me/calendarView", status=403)

    result, _ = await timed(teams, agent, "/calendar")

    assert result.status in (200, 202)
    assert "Calendars.ReadBasic" in shown(result)


async def test_a_20_s_graph_stall_gets_an_apology_within_the_deadline(
    teams: LocalCloudClient, agent: RunningAgent
) -> None:
    await teams.add_fault("graph", "/v1.0/search/query", latency_ms=20_000, count=1)

    result, seconds = await timed(teams, agent, "/files")

    assert result.status in (200, 202)
    assert "sorry" in shown(result).lower() and buttons(result) == ["Retry"]
    assert seconds < 10


async def test_a_typing_indicator_is_sent_while_a_slow_graph_call_runs(
    teams: LocalCloudClient, agent: RunningAgent
) -> None:
    await teams.add_fault("graph", BATCH, latency_ms=2_000, count=1)

    result, _ = await timed(teams, agent, "/me")

    kinds = [reply.type for reply in result.replies]
    assert "typing" in kinds and kinds.index("typing") < kinds.index("message")
    assert "Adele Vance" in shown(result)


async def test_a_401_signs_the_user_out_and_me_asks_to_sign_in_again(
    teams: LocalCloudClient, agent: RunningAgent, signed_in: list[str]
) -> None:
    await sign_in(teams, agent.endpoint, "diego", signed_in)
    await teams.add_fault("graph", BATCH, status=401, count=1)

    rejected, _ = await timed(teams, agent, "/me", user="diego")
    again, _ = await timed(teams, agent, "/me", user="diego")

    assert rejected.status in (200, 202)
    assert "sign in" in shown(rejected).lower() and buttons(rejected) == ["Sign in"]
    assert any(attachment.get("contentType") == OAUTH_CARD for reply in again.replies
               for attachment in reply.attachments)
