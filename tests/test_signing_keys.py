"""The keys that sign incoming tokens: fetched with backoff while their endpoint is down, kept when it fails later,
and refetched for an unknown key id at most once in a while, whoever sends made-up key ids."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import create_app
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.faults import Fault

KEYS_PATH = "/v1/.well-known/keys"


async def _agent(cloud: Cloud) -> TestClient:
    client = TestClient(TestServer(create_app(cloud.agent_settings() | {"AGENT_CLOUD": "public"}), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def keys_down(threaded_cloud: Cloud) -> AsyncIterator[Fault]:
    fault = threaded_cloud.faults.add(Fault(service="botframework", path=KEYS_PATH, status=503))
    yield fault
    threaded_cloud.faults.clear()


def _key_fetches(cloud: Cloud) -> int:
    return sum(row["count"] for row in cloud.traffic.snapshot()
               if row["service"] == "botframework" and row["path"] == KEYS_PATH)


async def _until_ready(agent: TestClient) -> None:
    """Warm-up (Graph, the agent's own token) and the first key fetch run in the background after start."""
    async with asyncio.timeout(15):
        while True:
            if (await agent.get("/readyz")).status == 200:
                return
            await asyncio.sleep(0.1)


async def _teams_help(cloud: Cloud, agent: TestClient) -> int:
    async with LocalCloudClient(cloud.endpoints.channels) as client:
        return (await client.teams("adele", "help", agent_endpoint=str(agent.make_url("/api/messages")))).status


async def test_while_the_key_endpoint_is_down_the_agent_is_not_ready_and_asks_callers_to_retry(
        threaded_cloud: Cloud, keys_down: Fault) -> None:
    agent = await _agent(threaded_cloud)
    try:
        assert (await agent.get("/readyz")).status == 503
        assert await _teams_help(threaded_cloud, agent) == 503
    finally:
        await agent.close()


async def test_once_the_key_endpoint_is_back_the_agent_gets_ready_without_a_restart(
        threaded_cloud: Cloud, keys_down: Fault) -> None:
    agent = await _agent(threaded_cloud)
    try:
        await asyncio.sleep(1)
        threaded_cloud.faults.clear()
        await _until_ready(agent)  # the retry backs off from 0.5 s: well within the wait
        assert await _teams_help(threaded_cloud, agent) in (200, 202)
    finally:
        await agent.close()


async def test_keys_already_fetched_keep_serving_when_the_key_endpoint_fails(threaded_cloud: Cloud) -> None:
    agent = await _agent(threaded_cloud)
    try:
        await _until_ready(agent)
        threaded_cloud.faults.add(Fault(service="botframework", path=KEYS_PATH, status=500))

        assert await _teams_help(threaded_cloud, agent) in (200, 202)
        assert (await agent.get("/readyz")).status == 200
    finally:
        threaded_cloud.faults.clear()
        await agent.close()


async def test_made_up_key_ids_refetch_the_keys_at_most_once(threaded_cloud: Cloud) -> None:
    agent = await _agent(threaded_cloud)
    try:
        assert await _teams_help(threaded_cloud, agent) in (200, 202)
        fetched = _key_fetches(threaded_cloud)
        key = threaded_cloud.issuer.botframework_key
        now = int(time.time())
        service_url = f"{threaded_cloud.endpoints.channels}/teams/"
        claims = {"aud": threaded_cloud.directory.agent.client_id, "iss": "https://api.botframework.com",
                  "exp": now + 600, "serviceurl": service_url}
        activity = {"type": "message", "text": "help", "channelId": "msteams", "serviceUrl": service_url,
                    "from": {"id": "29:someone"}, "recipient": {"id": "28:agent"}, "conversation": {"id": "a:1"}}

        for _ in range(20):
            token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": uuid.uuid4().hex})
            response = await agent.post("/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"})
            assert response.status == 401

        assert _key_fetches(threaded_cloud) - fetched <= 1
    finally:
        await agent.close()
