"""The shared connection to Graph: `GraphClient.start` opens it without a token and never fails the agent's start;
a refused connection is GraphUnavailable.

A small loopback server stands in for Graph where the test must see the requests' headers and client ports; the
clients under test (msgraph-sdk, httpx, aiohttp) are the real ones.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from auth.cloud import cloud_from_settings
from graph.client import WARM_UP_SECONDS, GraphClient, SharedHttp
from graph.errors import GraphUnavailable
from localcloud.cloud import Cloud

Seen = list[tuple[str | None, int]]
"""Each request's Authorization header and client port."""


@pytest.fixture
async def recording_graph() -> AsyncIterator[tuple[TestServer, Seen]]:
    """A Graph that answers 401 as Graph does without a token, and 200 `{}` with one."""
    seen: Seen = []

    async def me(request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        seen.append((authorization, request.transport.get_extra_info("peername")[1] if request.transport else 0))
        if authorization is None:
            error = {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}
            return web.json_response({"error": error}, status=401)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/v1.0/me", me)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graph_at(local: Cloud, endpoint: str) -> GraphClient:
    cloud = cloud_from_settings({**local.agent_settings(), "GRAPH_ENDPOINT": endpoint})
    return GraphClient(cloud, SharedHttp(cloud))


async def test_warm_up_sends_one_request_without_a_token(local: Cloud,
                                                         recording_graph: tuple[TestServer, Seen]) -> None:
    server, seen = recording_graph
    graph = graph_at(local, f"http://127.0.0.1:{server.port}")
    await graph.start()
    await graph.aclose()
    assert [authorization for authorization, _ in seen] == [None]


async def test_first_command_reuses_the_warm_up_connection(local: Cloud,
                                                           recording_graph: tuple[TestServer, Seen]) -> None:
    server, seen = recording_graph
    graph = graph_at(local, f"http://127.0.0.1:{server.port}")
    await graph.start()
    session = graph.session("a-user-token")
    assert await session.send_json(session.sdk.me.to_get_request_information(), "User.Read") == {}
    await graph.aclose()
    (_, warm_port), (authorization, first_port) = seen
    assert authorization == "Bearer a-user-token" and first_port == warm_port


async def test_warm_up_against_local_graph_completes_quietly(local: Cloud, caplog: pytest.LogCaptureFixture) -> None:
    graph = graph_at(local, local.endpoints.graph)
    with caplog.at_level(logging.INFO, logger="graph.client"):
        await graph.start()
    await graph.aclose()
    ours = [record for record in caplog.records if record.name == "graph.client"]
    assert [record.levelname for record in ours] == ["INFO"] and "warm-up done" in ours[0].getMessage()


async def test_warm_up_with_graph_unreachable_logs_and_returns(local: Cloud,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    graph = graph_at(local, f"https://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="graph.client"):
        await graph.start()
    await graph.aclose()
    assert time.monotonic() - started < WARM_UP_SECONDS
    assert "warm-up failed" in caplog.text


async def test_a_command_with_graph_unreachable_is_graph_unavailable(local: Cloud) -> None:
    graph = graph_at(local, f"https://127.0.0.1:{closed_port()}")
    session = graph.session("a-user-token")
    with pytest.raises(GraphUnavailable):
        await session.send(session.sdk.me.to_get_request_information(), "User.Read")
    await graph.aclose()
