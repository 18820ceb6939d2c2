"""Copilot Studio's `deliveryMode: "stream"` on /api/messages: a `text/event-stream` answer, as Microsoft's .NET
hosting gives it, over HTTP against the real agent app and the local cloud's Copilot Studio connector."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.hosting.core import TurnContext, TurnState

from bot import AGENT_APP_KEY, create_app
from localcloud.channels import parse_event_stream
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.launcher import CloudProcess, free_port, start_agent
from localcloud.tenant import USERS

pytestmark = pytest.mark.asyncio

SLOW = "stream-test slow"
FAIL = "stream-test fail"
THINK = "stream-test think"
ECHO = "stream-test/echo"
RELEASE = web.AppKey("release", asyncio.Event)


class ServiceUrlRecorder:
    """A serviceUrl that records what the agent POSTs to it, as the Copilot Studio connector's callback would."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.posted.append(await request.json())
        return web.json_response({"id": str(uuid.uuid4())})


@pytest.fixture(scope="module")
async def service_url() -> AsyncIterator[ServiceUrlRecorder]:
    recorder = ServiceUrlRecorder()
    app = web.Application()
    app.router.add_post("/{tail:.*}", recorder.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        recorder.url = str(server.make_url("/copilot/"))
        yield recorder


@pytest.fixture(scope="module")
async def agent(threaded_cloud: Cloud, service_url: ServiceUrlRecorder) -> AsyncIterator[TestClient]:
    """The real agent app, plus test routes: one that waits mid-turn, one that thinks long enough for the SDK's typing
    timer (500 ms), one that fails, and an invoke with a body. Normal-delivery replies may go to the recorder."""
    reply_host = urlsplit(service_url.url).netloc
    app = create_app(threaded_cloud.agent_settings() | {"COPILOT_STUDIO_REPLY_HOSTS": reply_host})
    agent_app = app[AGENT_APP_KEY]
    release = asyncio.Event()
    app[RELEASE] = release

    @agent_app.message(SLOW)
    async def slow(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity("first")
        await asyncio.wait_for(release.wait(), 10)
        await context.send_activity("second")

    @agent_app.message(THINK)
    async def think(context: TurnContext, _state: TurnState) -> None:
        await asyncio.sleep(0.8)
        await context.send_activity("thought")

    @agent_app.message(FAIL)
    async def fail(_context: TurnContext, _state: TurnState) -> None:
        raise RuntimeError("internal detail that must not reach the caller")

    @agent_app.invoke(ECHO)
    async def echo(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity("echoing")
        response = InvokeResponse(status=200, body={"echo": context.activity.value})
        await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))

    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def _connector_request(cloud: Cloud, service_url: str, delivery_mode: str | None, **fields: Any) -> dict[str, Any]:
    """What Copilot Studio's agent-to-agent connector posts, with the user's token for the agent."""
    agent = cloud.directory.agent
    user = USERS[0]
    token = cloud.issuer.entra_token(audience=agent.client_id, client_id=agent.client_id, user=user,
                                     scopes=["access_as_user"])
    cid = str(uuid.uuid4())
    activity = {
        "type": "message",
        "id": str(uuid.uuid4()),
        "channelId": "pva-studio",
        "serviceUrl": service_url,
        "from": {"id": user.id, "aadObjectId": user.id, "name": user.display_name, "role": "user"},
        "recipient": {"id": agent.client_id, "name": agent.display_name, "role": "connectoruser"},
        "conversation": {"id": cid, "tenantId": cloud.tenant_id},
        **({"deliveryMode": delivery_mode} if delivery_mode else {}),
        **fields,
    }
    return {"json": activity, "headers": {"Authorization": f"Bearer {token}", "x-ms-agentsdk-caller": "Connector"}}


def _texts(activities: list[dict[str, Any]]) -> list[str]:
    """Each reply's text and the plain-text fallback of its cards."""
    return [
        text
        for activity in activities
        for text in [activity.get("text") or "",
                     *(attachment["content"].get("fallbackText", "") for attachment in activity.get("attachments", []))]
    ]


async def _events(response: Any) -> list[tuple[str, Any]]:
    return parse_event_stream(await response.text())


async def test_hello_in_stream_mode_gets_the_help_card_as_an_activity_event(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                        text="hello"))

    assert response.status == 200
    assert response.content_type == "text/event-stream"
    events = await _events(response)
    replies = [data for event, data in events if event == "activity" and data["type"] == "message"]
    assert replies and replies[0]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert any("/calendar" in text for text in _texts(replies))
    assert {event for event, _ in events} == {"activity"}


async def test_events_are_framed_as_dotnet_hosting_frames_them(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                        text="hello"))

    body = await response.text()
    assert body.startswith("event: activity\r\ndata: {")
    assert body.endswith("}\r\n\r\n")


async def test_stream_replies_are_not_posted_to_the_service_url(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    before = len(service_url.posted)
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                        text="hello"))
    await response.read()

    assert len(service_url.posted) == before


async def test_each_reply_is_flushed_the_moment_it_is_sent(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    release = agent.app[RELEASE]
    release.clear()
    async with agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                  text=SLOW)) as response:
        first = await asyncio.wait_for(response.content.readuntil(b"\r\n\r\n"), 5)
        assert [data["text"] for _, data in parse_event_stream(first.decode())] == ["first"]
        release.set()
        rest = parse_event_stream((await response.content.read()).decode())

    assert [data["text"] for event, data in rest if event == "activity" and data["type"] == "message"] == ["second"]


async def test_the_sdks_typing_timer_is_streamed_before_the_reply(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                        text=THINK))

    events = await _events(response)
    assert [data["type"] for _, data in events] == ["typing", "message"]


async def test_an_invoke_ends_with_its_invoke_response(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    request = _connector_request(threaded_cloud, service_url.url, "stream", type="invoke", name=ECHO,
                                 value={"n": 1})
    response = await agent.post("/api/messages", **request)

    assert response.status == 200
    events = await _events(response)
    assert ("activity", "echoing") in [(event, data.get("text")) for event, data in events]
    assert events[-1] == ("invokeResponse", {"status": 200, "body": {"echo": {"n": 1}}})


async def test_an_invoke_without_a_response_body_gets_no_invoke_response_event(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    request = _connector_request(threaded_cloud, service_url.url, "stream", type="invoke", name="stream-test/unknown")
    response = await agent.post("/api/messages", **request)

    assert response.status == 200
    assert "invokeResponse" not in {event for event, _ in await _events(response)}


async def test_a_failing_turn_ends_the_stream_with_a_short_apology(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, "stream",
                                                                        text=FAIL))

    assert response.status == 200
    body = await response.text()
    events = parse_event_stream(body)
    assert events and events[-1][0] == "activity" and events[-1][1]["type"] == "message"
    assert "Traceback" not in body and "internal detail" not in body


async def test_a_bad_token_on_a_stream_request_gets_401(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    request = _connector_request(threaded_cloud, service_url.url, "stream", text="hello")
    request["headers"]["Authorization"] = "Bearer not-a-token"
    response = await agent.post("/api/messages", **request)

    assert response.status == 401
    assert response.content_type != "text/event-stream"


async def test_a_stream_activity_without_a_conversation_gets_400(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    request = _connector_request(threaded_cloud, service_url.url, "stream", text="hello")
    del request["json"]["conversation"]
    response = await agent.post("/api/messages", **request)

    assert response.status == 400


async def test_expect_replies_still_answers_in_the_body(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url,
                                                                        "expectReplies", text="hello"))

    assert response.status == 200
    assert response.content_type == "application/json"
    assert any("/calendar" in text for text in _texts((await response.json())["activities"]))


async def test_normal_delivery_still_posts_replies_to_the_service_url(
    agent: TestClient, threaded_cloud: Cloud, service_url: ServiceUrlRecorder
) -> None:
    before = len(service_url.posted)
    response = await agent.post("/api/messages", **_connector_request(threaded_cloud, service_url.url, None,
                                                                        text="hello"))

    assert response.status == 202
    assert any("/calendar" in text for text in _texts(service_url.posted[before:]))


@pytest.fixture(scope="module")
def agent_process(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python bot.py` on a free port, with the settings the subprocess cloud wrote."""
    port = free_port()
    process = start_agent(cloud.env_file, port, log_file=tmp_path_factory.mktemp("agent") / "agent.log")
    try:
        yield f"http://127.0.0.1:{port}/api/messages"
    finally:
        process.stop()


async def test_local_copilot_client_gets_the_help_reply_in_stream_mode(cloud: CloudProcess, agent_process: str) -> None:
    async with LocalCloudClient(cloud.url) as local:
        result = await local.copilot("adele", "hello", delivery="stream", agent_endpoint=agent_process)

    assert result.status == 200
    assert any("/calendar" in text for text in _texts(result.replies))
