"""Sign-in at its edges: two turns racing on one sign-in, and a sign-in card left until it expired."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.hosting.core._oauth import _FlowStorageClient

from bot import AGENT_APP_KEY, create_app
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.launcher import CloudProcess
from tests.support import OAUTH_CARD, RunningAgent, oauth_links

pytestmark = pytest.mark.asyncio

GENERIC_APOLOGY = "something went wrong"


async def test_two_commands_at_once_from_a_signed_out_user_get_a_sign_in_card_and_no_apology(
    cloud: CloudProcess, agent: RunningAgent
) -> None:
    async with LocalCloudClient(cloud.url) as teams:
        await teams.teams("megan", "/logout", agent_endpoint=agent.endpoint)
        first, second = await asyncio.gather(teams.teams("megan", "/me", agent_endpoint=agent.endpoint),
                                             teams.teams("megan", "/calendar", agent_endpoint=agent.endpoint))
        await teams.teams("megan", "cancel", agent_endpoint=agent.endpoint)

    replies = first.replies + second.replies
    assert oauth_links(replies)
    assert not any(GENERIC_APOLOGY in json.dumps(reply.activity).lower() for reply in replies)
    assert "turn failed" not in agent.log_file.read_text()


def _message(user_id: str, text: str) -> dict[str, Any]:
    """A Teams message whose replies come back in the HTTP answer (expectReplies), so no channel is needed."""
    return {"type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/",
            "from": {"id": user_id, "name": "Adele Vance"}, "recipient": {"id": "28:agent", "name": "Agent"},
            "conversation": {"id": f"a:{user_id}"}, "text": text, "deliveryMode": "expectReplies"}


async def _say(agent: TestClient, cloud: Cloud, user_id: str, text: str) -> list[dict[str, Any]]:
    token = cloud.issuer.channel_token(app_id=cloud.directory.agent.client_id, service_url="http://127.0.0.1:9/")
    response = await agent.post("/api/messages", json=_message(user_id, text),
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    return (await response.json())["activities"]


async def test_a_sign_in_card_left_until_it_expired_no_longer_holds_the_user_back(
    in_process_agent: TestClient[web.Request, web.Application], threaded_cloud: Cloud
) -> None:
    user_id = f"29:{uuid.uuid4().hex}"
    asked = await _say(in_process_agent, threaded_cloud, user_id, "/me")
    assert any(attachment.get("contentType") == OAUTH_CARD
               for activity in asked for attachment in activity.get("attachments") or [])
    storage = in_process_agent.app[AGENT_APP_KEY].auth._storage
    flows = _FlowStorageClient("msteams", user_id, storage)
    flow = await flows.read("GRAPH")
    assert flow is not None
    flow.expiration = 0  # as ten minutes later
    await flows.write(flow)

    answer = await _say(in_process_agent, threaded_cloud, user_id, "help")

    shown = json.dumps(answer)
    assert "Finish with the sign-in card" not in shown and "/calendar" in shown


async def test_the_handlers_text_and_title_settings_word_the_sign_in_card(threaded_cloud: Cloud) -> None:
    handler = "AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__GRAPH__SETTINGS__"
    settings = {**threaded_cloud.agent_settings(), f"{handler}TEXT": "Sign in to Contoso.", f"{handler}TITLE": "Go"}
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    try:
        asked = await _say(client, threaded_cloud, f"29:{uuid.uuid4().hex}", "/me")
    finally:
        await client.close()

    [card] = [attachment["content"] for activity in asked for attachment in activity.get("attachments") or []
              if attachment.get("contentType") == OAUTH_CARD]
    assert (card["text"], card["buttons"][0]["title"]) == ("Sign in to Contoso.", "Go")
