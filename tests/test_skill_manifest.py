"""Copilot Studio adds the agent as a skill: its manifest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft7Validator

from bot import create_app
from localcloud.cloud import Cloud

pytestmark = pytest.mark.asyncio

SKILL_MANIFEST_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "skill-manifest-2.2.json").read_text())
ENDPOINT = "https://agent.contoso.example/api/messages"


@pytest.fixture(scope="module")
async def skill(threaded_cloud: Cloud) -> AsyncIterator[TestClient]:
    settings = threaded_cloud.agent_settings() | {"SKILL_ENDPOINT_URL": ENDPOINT}
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def _manifest(skill: TestClient) -> dict[str, Any]:
    response = await skill.get("/manifest.json")
    assert response.status == 200
    return await response.json()


async def test_manifest_is_valid_and_names_the_configured_endpoint_and_app_id(skill: TestClient,
                                                                             threaded_cloud: Cloud) -> None:
    manifest = await _manifest(skill)

    Draft7Validator(SKILL_MANIFEST_SCHEMA).validate(manifest)
    assert manifest["$schema"] == "https://schemas.botframework.com/schemas/skills/v2.2/skill-manifest.json"
    assert manifest["endpoints"] == [{"name": "default", "protocol": "BotFrameworkV3",
                                      "description": "The agent's messaging endpoint", "endpointUrl": ENDPOINT,
                                      "msAppId": threaded_cloud.directory.agent.client_id}]
    assert {name for name, activity in manifest["activities"].items() if activity["type"] == "event"} == {
        "GetProfile", "GetCalendar", "GetFiles"}


async def test_manifest_without_configured_endpoint_points_at_this_hosts_messages(threaded_cloud: Cloud) -> None:
    async with TestClient(TestServer(create_app(threaded_cloud.agent_settings()), host="127.0.0.1")) as client:
        manifest = await _manifest(client)
        expected = f"http://127.0.0.1:{client.port}/api/messages"

    assert manifest["endpoints"][0]["endpointUrl"] == expected
