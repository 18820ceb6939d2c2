"""A new command is one record plus its Graph call and its card: given only those (here `/presence`, with a Graph call
and a card written as `graph/` and `cards/` would hold them), the agent routes it, reaches it by the plain words of
its record's cues, lists it on the help card and in the Teams command menu, and publishes and answers its skill
action."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft7Validator
from microsoft_agents.activity import Activity

from bot import create_app
from cards.common import adaptive_card, card_activity, text_block
from graph.client import BatchRequest, GraphClient
from localcloud.cloud import Cloud
from localcloud.tenant import USERS
from skills.catalog import COMMANDS, CommandRecord, SkillAction
from skills.intents import Understood, understand
from tests.support import ADAPTIVE_CARD
from tools.package import CLIENTID_KEY, fill_manifest, schema_errors, starter_errors

ADELE = USERS[0]


@dataclass(frozen=True)
class Availability:
    """What `graph/models.py` would hold."""

    availability: str


async def get_availability(graph: GraphClient, token: str) -> Availability:
    """What `graph/` would hold: one Graph call, a typed result."""
    answer = (await graph.session(token).batch([BatchRequest("presence", "/me/presence")], "Presence.Read"))["presence"]
    if not answer.ok:
        raise answer.error("Presence.Read")
    return Availability(answer.json()["availability"])


def availability_card(availability: Availability) -> Activity:
    """What `cards/` would hold: the card and its fallback text."""
    said = f"You show as {availability.availability}."
    return card_activity(adaptive_card([text_block(said)]), said)


PRESENCE = CommandRecord(
    name="presence",
    help="Whether you show as available, busy or away.",
    permissions=("Presence.Read",),
    working="Reading your presence…",
    fetch=lambda graph, token, _command: get_availability(graph, token),
    card=availability_card,
    action=SkillAction("GetPresence", "Whether the user shows as available, busy or away.",
                       {"type": "object", "additionalProperties": False}, Availability,
                       lambda graph, token, _value: get_availability(graph, token)),
    cues={"availability status": 5, "my availability": 4, "how do i show": 5},
)
ASKED_IN_PLAIN_WORDS = "what's my availability status"
"""Built from the record's own cues, none of which another command has."""
WITH_PRESENCE = (*COMMANDS, PRESENCE)


@pytest.fixture(scope="module")
async def agent_with_presence(threaded_cloud: Cloud) -> AsyncIterator[TestClient]:
    settings = threaded_cloud.agent_settings() | {"CONNECTOR_ALLOWED_CALLERS": threaded_cloud.directory.agent.client_id}
    client = TestClient(TestServer(create_app(settings, WITH_PRESENCE), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def from_copilot_studio(agent: TestClient, cloud: Cloud, activity: dict[str, Any]) -> list[dict[str, Any]]:
    """`activity` as Copilot Studio's connector sends it for Adele, with `expectReplies`: the agent's replies."""
    agent_id = cloud.directory.agent.client_id
    token = cloud.issuer.entra_token(audience=agent_id, client_id=agent_id, user=ADELE, scopes=["access_as_user"])
    body = {"id": uuid.uuid4().hex, "channelId": "pva-studio", "serviceUrl": "http://127.0.0.1:9/",
            "from": {"id": str(uuid.uuid4()), "name": ADELE.display_name},
            "recipient": {"id": "agent", "name": "Agent", "role": "connectoruser"},
            "conversation": {"id": str(uuid.uuid4())}, "deliveryMode": "expectReplies", **activity}
    response = await agent.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, await response.text()
    return (await response.json())["activities"]


def card_texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(str(attachment["content"]) for reply in replies for attachment in reply.get("attachments") or []
                    if attachment.get("contentType") == ADAPTIVE_CARD)


@pytest.mark.asyncio
async def test_the_typed_command_answers_with_its_card(agent_with_presence: TestClient, threaded_cloud: Cloud) -> None:
    replies = await from_copilot_studio(agent_with_presence, threaded_cloud, {"type": "message", "text": "/presence"})

    assert "You show as " in card_texts(replies)


@pytest.mark.asyncio
async def test_plain_words_of_its_cues_answer_with_its_card(agent_with_presence: TestClient,
                                                            threaded_cloud: Cloud) -> None:
    replies = await from_copilot_studio(agent_with_presence, threaded_cloud,
                                        {"type": "message", "text": ASKED_IN_PLAIN_WORDS})

    assert "You show as " in card_texts(replies)


def test_without_the_record_the_same_words_do_not_run_it() -> None:
    meaning = understand(ASKED_IN_PLAIN_WORDS)

    assert not (isinstance(meaning, Understood) and meaning.name == PRESENCE.name)


@pytest.mark.asyncio
async def test_the_help_card_lists_it(agent_with_presence: TestClient, threaded_cloud: Cloud) -> None:
    replies = await from_copilot_studio(agent_with_presence, threaded_cloud, {"type": "message", "text": "/help"})

    assert "/presence" in card_texts(replies) and PRESENCE.help in card_texts(replies)


@pytest.mark.asyncio
async def test_the_skill_manifest_publishes_its_action_and_the_action_answers_to_its_schema(
    agent_with_presence: TestClient, threaded_cloud: Cloud
) -> None:
    published = (await (await agent_with_presence.get("/manifest.json")).json())["activities"]
    replies = await from_copilot_studio(agent_with_presence, threaded_cloud, {"type": "event", "name": "GetPresence"})

    (end,) = [reply for reply in replies if reply["type"] == "endOfConversation"]
    assert end["code"] == "completedSuccessfully"
    Draft7Validator(published["GetPresence"]["resultValue"]).validate(end["value"])
    assert "/presence" in published["message"]["description"]


def test_the_teams_command_menu_lists_it() -> None:
    manifest = fill_manifest({CLIENTID_KEY: "3f2c6b1e-8d4a-4c7e-9b25-6a1d0e7f4c93", "AGENT_CLOUD": "public"},
                             WITH_PRESENCE)

    (menu,) = [listing for listing in manifest["bots"][0]["commandLists"] if "personal" in listing["scopes"]]
    assert menu["commands"][-1] == {"title": "/presence", "description": PRESENCE.help, "type": "prompt",
                                    "prompt": "/presence"}
    assert schema_errors(manifest) == [] and starter_errors(manifest) == []
