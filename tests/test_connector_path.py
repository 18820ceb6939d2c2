"""Copilot Studio's connector path end to end: the agent in its own process, the local cloud's Copilot Studio client
(recipient role `connectoruser`, the user's token for the agent), the on-behalf-of exchange at the local Entra, and
the local Graph, in each delivery mode the connector uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from localcloud.client import CopilotResult, Delivery, LocalCloudClient
from localcloud.launcher import CloudProcess
from localcloud.seed import calendar, drive, today_for
from localcloud.tenant import USERS, User

pytestmark = pytest.mark.asyncio

DELIVERIES: tuple[Delivery, ...] = ("normal", "expectReplies", "stream")
OK_STATUSES = {200, 202}


@pytest.fixture
async def copilot(cloud: CloudProcess, agent_endpoint: str) -> AsyncIterator[Any]:
    async with LocalCloudClient(cloud.url) as client:

        async def send(user: str, text: str, delivery: Delivery, **kw: Any) -> CopilotResult:
            return await client.copilot(user, text, delivery=delivery, agent_endpoint=agent_endpoint, **kw)

        yield send


def user_named(username: str) -> User:
    return next(user for user in USERS if user.username == username)


def messages(result: CopilotResult) -> list[dict[str, Any]]:
    return [reply for reply in result.replies if reply.get("type") == "message"]


def shown(result: CopilotResult) -> str:
    """Everything the user could read in the replies: texts and whole cards."""
    return json.dumps(messages(result))


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_me_answers_with_the_connector_users_profile_card(copilot: Any, delivery: Delivery) -> None:
    result = await copilot("megan", "/me", delivery)

    assert result.status in OK_STATUSES
    cards = [attachment["content"] for reply in messages(result) for attachment in reply.get("attachments", [])]
    assert cards and cards[0]["type"] == "AdaptiveCard"
    assert "Megan Bowen" in json.dumps(cards) and "Marketing Manager" in json.dumps(cards)
    assert "Adele Vance" not in json.dumps(cards)


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_calendar_answers_with_the_connector_users_meetings_today(copilot: Any, delivery: Delivery) -> None:
    user = user_named("isaiah")
    today = today_for(user)
    subjects = {event.subject for event in calendar(user, today) if event.start.date() == today}

    result = await copilot("isaiah", "/calendar", delivery)

    assert result.status in OK_STATUSES
    assert {"Q3 budget review", "Design sync"} <= subjects
    assert "Q3 budget review" in shown(result) and "Design sync" in shown(result)


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_files_answers_with_the_connector_users_drive(copilot: Any, delivery: Delivery) -> None:
    user = user_named("diego")
    newest = max((item for item in drive(user, today_for(user)).items.values() if not item.is_folder),
                 key=lambda item: item.modified)

    result = await copilot("diego", "/files", delivery)

    assert result.status in OK_STATUSES
    assert newest.name in shown(result)
    assert "/personal/diego_" in shown(result) and "/personal/adele_" not in shown(result)


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_a_token_issued_to_a_caller_app_that_is_not_allowed_is_refused_unanswered(copilot: Any,
                                                                                        delivery: Delivery) -> None:
    result = await copilot("adele", "/me", delivery, azp_mismatch=True)

    assert result.status == 401
    assert result.replies == []


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_logout_on_the_connector_explains_nothing_is_stored(copilot: Any, delivery: Delivery) -> None:
    result = await copilot("alex", "/logout", delivery)

    assert result.status in OK_STATUSES
    text = shown(result).lower()
    assert "nothing to sign out" in text and "don't keep" in text



async def test_a_token_graph_rejects_tells_the_user_to_reconnect_in_copilot_studio(cloud: CloudProcess,
                                                                                   copilot: Any) -> None:
    async with LocalCloudClient(cloud.url) as client:
        await client.add_fault("graph", "/v1.0/$batch", status=401, count=1)
        try:
            result = await copilot("lidia", "/me", "expectReplies")
        finally:
            await client.clear_faults()

    assert result.status in OK_STATUSES
    assert "Reconnect" in shown(result) and "Copilot Studio" in shown(result)
