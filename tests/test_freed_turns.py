"""A finished turn is freed by reference counting alone (`hosting.turn_context`): none of its objects wait for the
cycle collector, whose full passes over finished turns were the agent's longest pauses under load (issue #9)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.activity import Activity, ResourceResponse
from microsoft_agents.hosting.core import TurnContext

from bot import create_app
from hosting.turn_context import FreedTurnContext
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from skills.progress import PROGRESS_DELAY
from tests.support import adaptive_cards, is_profile_of, teams_user_signed_in

pytestmark = pytest.mark.asyncio

PROGRESS_DELAY_MS = int(PROGRESS_DELAY * 1000)


@pytest.fixture(scope="module")
async def in_process_agent(threaded_cloud: Cloud) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client = TestClient(TestServer(create_app(threaded_cloud.agent_settings()), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def contexts_left() -> list[TurnContext]:
    """The turn contexts still in memory: with the collector off, a context in a reference cycle stays listed."""
    return [found for found in gc.get_objects() if isinstance(found, TurnContext)]


async def with_collector_off(turn: Callable[[], Awaitable[Any]]) -> tuple[Any, list[TurnContext]]:
    gc.collect()
    gc.disable()
    try:
        return await turn(), contexts_left()
    finally:
        gc.enable()


async def test_a_finished_teams_turn_leaves_no_turn_context_for_the_collector(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    endpoint = str(in_process_agent.make_url("/api/messages"))
    async with LocalCloudClient(threaded_cloud.endpoints.channels) as client, \
            teams_user_signed_in(client, endpoint, "isaiah") as user:
        result, left = await with_collector_off(lambda: client.teams(user, "/me", agent_endpoint=endpoint))

    assert any(is_profile_of(user)(reply) for reply in result.replies)
    assert left == []


async def test_a_finished_teams_turn_that_streamed_its_progress_leaves_no_turn_context_for_the_collector(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    endpoint = str(in_process_agent.make_url("/api/messages"))
    async with LocalCloudClient(threaded_cloud.endpoints.channels) as client, \
            teams_user_signed_in(client, endpoint, "isaiah") as user:
        await client.add_fault("graph", "/v1.0/*", latency_ms=2 * PROGRESS_DELAY_MS)  # slow enough to show progress
        try:
            result, left = await with_collector_off(lambda: client.teams(user, "/calendar", agent_endpoint=endpoint))
        finally:
            await client.clear_faults()

    assert any("streaminfo" in str(reply.activity) for reply in result.replies), "the calendar streamed its progress"
    assert adaptive_cards(result.replies)
    assert left == []


def received() -> Activity:
    return Activity.model_validate({"type": "message", "text": "hi", "channelId": "msteams",
                                    "serviceUrl": "http://127.0.0.1:9/", "from": {"id": "29:user"},
                                    "recipient": {"id": "28:agent"}, "conversation": {"id": "a:chat"}})


async def test_the_turns_handlers_run_in_the_order_registered_each_around_the_rest_then_the_send() -> None:
    calls: list[str] = []

    class Channel:
        async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
            calls.append("sent " + ", ".join(str(activity.text) for activity in activities))
            return [ResourceResponse(id="1")]

    def around(name: str) -> Callable[..., Awaitable[list[ResourceResponse]]]:
        async def handler(context: TurnContext, activities: list[Activity],
                          sent: Callable[[], Awaitable[list[ResourceResponse]]]) -> list[ResourceResponse]:
            calls.append(f"{name} before")
            activities[0].text = f"{activities[0].text} via {name}"
            answer = await sent()
            calls.append(f"{name} after")
            return answer

        return handler

    context = FreedTurnContext(Channel(), received())
    context.on_send_activities(around("first")).on_send_activities(around("second"))

    answer = await context.send_activity("hello")

    assert answer is not None and answer.id == "1"
    assert calls == ["first before", "second before", "sent hello via first via second", "second after",
                     "first after"]


async def test_a_handler_that_does_not_call_the_rest_stops_the_send() -> None:
    sent: list[Activity] = []

    class Channel:
        async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
            sent.extend(activities)
            return []

    async def swallow(context: TurnContext, activities: list[Activity], rest: Any) -> list[ResourceResponse]:
        return []

    context = FreedTurnContext(Channel(), received())
    context.on_send_activities(swallow)

    await context.send_activity("hello")

    assert sent == []
