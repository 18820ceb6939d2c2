"""Copilot Studio adds the agent as a skill: its manifest, and its event actions answered with endOfConversation."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft7Validator

from auth.sign_in import CONNECTOR_TOKEN_REFUSED
from bot import create_app
from localcloud.cloud import Cloud
from localcloud.faults import Fault
from localcloud.tenant import USERS, stable_id

pytestmark = pytest.mark.asyncio

SKILL_MANIFEST_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "skill-manifest-2.2.json").read_text())
ENDPOINT = "https://agent.contoso.example/api/messages"
ADELE = USERS[0]
COPILOT_STUDIO_APP = stable_id("app:copilot-studio")
"""A caller app the skill fixture allows on the connector whose tokens (`azp` not the agent) cannot be exchanged."""


@pytest.fixture(scope="module")
async def skill(threaded_cloud: Cloud) -> AsyncIterator[TestClient]:
    agent = threaded_cloud.directory.agent.client_id
    settings = threaded_cloud.agent_settings() | {"SKILL_ENDPOINT_URL": ENDPOINT,
                                                  "CONNECTOR_ALLOWED_CALLERS": f"{agent},{COPILOT_STUDIO_APP}"}
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def _event(name: str, value: Any = None, *, connector: bool = False) -> dict[str, Any]:
    """A skill call as Copilot Studio sends it; with `connector`, through its agent-to-agent connector."""
    activity = {
        "type": "event",
        "name": name,
        "id": uuid.uuid4().hex,
        "channelId": "pva-studio" if connector else "directline",
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": str(uuid.uuid4()), "name": ADELE.display_name},
        "recipient": {"id": "agent", "name": "Agent", **({"role": "connectoruser"} if connector else {})},
        "conversation": {"id": str(uuid.uuid4())},
        "deliveryMode": "expectReplies",
    }
    return activity | ({"value": value} if value is not None else {})


def _connector_token(cloud: Cloud, *, azp: str | None = None) -> str:
    agent = cloud.directory.agent.client_id
    return cloud.issuer.entra_token(audience=agent, client_id=azp or agent, user=ADELE, scopes=["access_as_user"])


async def _end_of_conversation(skill: TestClient, activity: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await skill.post("/api/messages", json=activity, headers=headers)
    assert response.status == 200, await response.text()
    replies = (await response.json())["activities"]
    ends = [reply for reply in replies if reply["type"] == "endOfConversation"]
    assert len(ends) == 1 and replies[-1] is ends[0], replies
    return ends[0]


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


async def test_event_without_a_stored_token_ends_with_sign_in_required(skill: TestClient) -> None:
    end = await _end_of_conversation(skill, _event("GetProfile"))

    assert end["value"] == {"error": "signInRequired",
                            "message": "Sign in first: open the agent in Teams and type /me."}
    assert end["text"] == end["value"]["message"]
    assert not end.get("attachments")


async def test_connector_get_profile_returns_the_users_profile_valid_against_its_result_schema(
    skill: TestClient, threaded_cloud: Cloud
) -> None:
    end = await _end_of_conversation(skill, _event("GetProfile", connector=True), _connector_token(threaded_cloud))

    assert end["code"] == "completedSuccessfully"
    profile = end["value"]
    result_schema = (await _manifest(skill))["activities"]["GetProfile"]["resultValue"]
    Draft7Validator(result_schema).validate(profile)
    assert profile["displayName"] == ADELE.display_name and profile["jobTitle"] == ADELE.job_title
    assert "error" not in profile


async def test_connector_get_calendar_returns_iso_times_valid_against_its_result_schema(
    skill: TestClient, threaded_cloud: Cloud
) -> None:
    activity = _event("GetCalendar", {"range": "week", "timeZone": "Europe/Berlin"}, connector=True)

    end = await _end_of_conversation(skill, activity, _connector_token(threaded_cloud))

    page = end["value"]
    Draft7Validator((await _manifest(skill))["activities"]["GetCalendar"]["resultValue"]).validate(page)
    assert page["timeZone"] == "W. Europe Standard Time" and page["start"][-6:] in ("+01:00", "+02:00")


async def test_connector_token_that_cannot_be_exchanged_ends_with_sign_in_required(
    skill: TestClient, threaded_cloud: Cloud
) -> None:
    token = _connector_token(threaded_cloud, azp=COPILOT_STUDIO_APP)

    end = await _end_of_conversation(skill, _event("GetFiles", connector=True), token)

    assert end["value"]["error"] == "signInRequired" and "Copilot Studio" in end["value"]["message"]
    assert token not in json.dumps(end)


async def test_connector_token_graph_rejects_ends_with_the_same_answer_as_one_that_cannot_be_exchanged(
    skill: TestClient, threaded_cloud: Cloud
) -> None:
    threaded_cloud.faults.add(Fault(service="graph", path="/v1.0/$batch", status=401, count=1))
    try:
        end = await _end_of_conversation(skill, _event("GetProfile", connector=True), _connector_token(threaded_cloud))
    finally:
        threaded_cloud.faults.clear()

    assert end["value"] == {"error": "signInRequired", "message": CONNECTOR_TOKEN_REFUSED}


async def test_unknown_action_ends_with_unknown_action(skill: TestClient) -> None:
    end = await _end_of_conversation(skill, _event("BookFlight"))

    assert end["value"]["error"] == "unknownAction"
    assert "GetProfile" in end["value"]["message"]


async def test_value_outside_the_actions_schema_ends_with_invalid_value(skill: TestClient) -> None:
    end = await _end_of_conversation(skill, _event("GetCalendar", {"range": "yesterday"}))

    assert end["value"]["error"] == "invalidValue"
    assert "GetCalendar: range:" in end["value"]["message"] and "'yesterday' is not one of" in end["value"]["message"]
