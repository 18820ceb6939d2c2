"""The one Graph client serves every user: nothing one user's answer leaves behind goes with another user's request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from auth.cloud import cloud_from_settings
from graph.client import GraphClient, SharedHttp
from graph.profile import get_profile
from localcloud.cloud import Cloud


@pytest.fixture
async def cookie_setting_graph() -> AsyncIterator[tuple[TestServer, list[str | None]]]:
    """A `$batch` endpoint on loopback that sets a cookie on every answer and notes each request's Cookie header."""
    cookies: list[str | None] = []

    async def batch(request: web.Request) -> web.Response:
        cookies.append(request.headers.get("Cookie"))
        response = web.json_response({"responses": [{"id": "me", "status": 200, "body": {"displayName": "Someone"}}]})
        response.set_cookie("affinity", f"session-{len(cookies)}", path="/")
        return response

    app = web.Application()
    app.router.add_post("/v1.0/$batch", batch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, cookies
    await server.close()


async def test_a_cookie_set_in_one_users_answer_is_not_sent_with_the_next_request(
    local: Cloud, cookie_setting_graph: tuple[TestServer, list[str | None]]
) -> None:
    server, cookies = cookie_setting_graph
    cloud = cloud_from_settings({**local.agent_settings(), "GRAPH_ENDPOINT": f"http://127.0.0.1:{server.port}"})
    graph = GraphClient(cloud, SharedHttp(cloud))
    try:
        await get_profile(graph, "token-of-adele")
        await get_profile(graph, "token-of-megan")
    finally:
        await graph.aclose()

    assert cookies == [None, None]
