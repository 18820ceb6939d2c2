"""The sign-in service's own rules: it stands apart from the cards it sends, speaks only the handler types it knows,
and a sign-in ends after the third wrong code."""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from microsoft_agents.activity import load_configuration_from_env

from auth.sign_in import AgentAuthorization
from localcloud.cloud import Cloud
from state import MemoryStateStorage
from tests.support import OAUTH_CARD

AUTH = Path(__file__).resolve().parents[1] / "auth"


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}


def test_no_module_of_auth_imports_the_cards() -> None:
    importing = sorted(path.name for path in AUTH.glob("*.py")
                       if any(module.split(".")[0] == "cards" for module in _imported(path)))

    assert importing == []


def test_a_handler_type_the_agent_does_not_sign_in_with_stops_start_up_naming_the_ones_it_does(
    threaded_cloud: Cloud
) -> None:
    settings = {**threaded_cloud.agent_settings(),
                "AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__GRAPH__TYPE": "AgenticUserAuthorization"}

    with pytest.raises(ValueError, match="UserAuthorization .* or ConnectorUserAuthorization"):
        AgentAuthorization(MemoryStateStorage(), None, **load_configuration_from_env(settings))  # type: ignore[arg-type]


async def _say(agent: TestClient[web.Request, web.Application], cloud: Cloud, user_id: str,
               text: str) -> list[dict[str, Any]]:
    """A Teams message whose replies come back in the HTTP answer (expectReplies)."""
    token = cloud.issuer.channel_token(app_id=cloud.directory.agent.client_id, service_url="http://127.0.0.1:9/")
    activity = {"type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/",
                "from": {"id": user_id, "name": "Adele Vance"}, "recipient": {"id": "28:agent", "name": "Agent"},
                "conversation": {"id": f"a:{user_id}"}, "text": text, "deliveryMode": "expectReplies"}
    response = await agent.post("/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    return (await response.json())["activities"]


def _texts(activities: list[dict[str, Any]]) -> str:
    return " ".join(activity.get("text") or "" for activity in activities)


async def test_the_third_wrong_code_ends_the_sign_in_and_the_next_command_asks_afresh(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    user_id = f"29:{uuid.uuid4().hex}"
    await _say(in_process_agent, threaded_cloud, user_id, "/me")

    wrong = [_texts(await _say(in_process_agent, threaded_cloud, user_id, "000000")) for _ in range(3)]
    again = await _say(in_process_agent, threaded_cloud, user_id, "/me")

    assert ["That code didn't work" in text for text in wrong] == [True, True, False]
    assert "didn't complete" in wrong[2]
    assert any(attachment.get("contentType") == OAUTH_CARD
               for activity in again for attachment in activity.get("attachments") or [])
    assert "fresh" not in json.dumps(again)
