"""A finished turn is freed by reference counting alone (`hosting.turn_context`): none of its objects wait for the
cycle collector, whose full passes over finished turns were the agent's longest pauses under load (issue #9)."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from microsoft_agents.activity import Activity, ResourceResponse
from microsoft_agents.hosting.core import TurnContext

from hosting.turn_context import FreedTurnContext
from localcloud.client import LocalCloudClient, TeamsResult
from localcloud.cloud import Cloud
from skills.progress import PROGRESS_DELAY
from tests.support import adaptive_cards, is_profile_of, teams_user_signed_in

pytestmark = pytest.mark.asyncio

PROGRESS_DELAY_MS = int(PROGRESS_DELAY * 1000)


def contexts_left() -> list[TurnContext]:
    """The turn contexts still in memory: with the collector off, a context in a reference cycle stays listed."""
    return [found for found in gc.get_objects() if isinstance(found, TurnContext)]


async def teams_turn(agent: TestClient[web.Request, web.Application], cloud: Cloud, text: str,
                     graph_latency_ms: int = 0) -> tuple[TeamsResult, list[TurnContext]]:
    """A signed-in Teams user's turn, run with the collector off, and the contexts it left behind."""
    endpoint = str(agent.make_url("/api/messages"))
    async with LocalCloudClient(cloud.endpoints.channels) as client, \
            teams_user_signed_in(client, endpoint, "isaiah") as user:
        if graph_latency_ms:
            await client.add_fault("graph", "/v1.0/*", latency_ms=graph_latency_ms)
        gc.collect()
        gc.disable()
        try:
            return await client.teams(user, text, agent_endpoint=endpoint), contexts_left()
        finally:
            gc.enable()
            await client.clear_faults()


async def test_a_finished_teams_turn_leaves_no_turn_context_for_the_collector(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    result, left = await teams_turn(in_process_agent, threaded_cloud, "/me")

    assert any(is_profile_of("isaiah")(reply) for reply in result.replies)
    assert left == []


async def test_a_finished_teams_turn_that_streamed_its_progress_leaves_no_turn_context_for_the_collector(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    # slow enough that the agent shows its progress
    result, left = await teams_turn(in_process_agent, threaded_cloud, "/calendar", 2 * PROGRESS_DELAY_MS)

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
