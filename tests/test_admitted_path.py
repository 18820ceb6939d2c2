"""A turn is Teams' or Copilot Studio's connector's by the path `auth.incoming` admitted its request on, never by the
activity's `recipient.role`: a body that claims the connector's role on the Bot Service path is still a Teams turn."""

from __future__ import annotations

import uuid
from typing import Any

from microsoft_agents.activity import Activity, load_configuration_from_env

from auth.cloud import cloud_from_settings
from auth.connections import build_adapter, build_connections
from auth.incoming import Admitted, Path
from localcloud.cloud import Cloud
from skills.logout import SIGNED_OUT

OAUTH_CARD = "application/vnd.microsoft.card.oauth"


async def _teams_turn_claiming_the_connector_role(cloud: Cloud, text: str) -> list[dict[str, Any]]:
    """The agent's replies to `text` on a turn admitted on the Bot Service path whose body says `connectoruser`."""
    from bot import AGENT_APP_KEY, create_app  # the whole agent

    settings = cloud.agent_settings()
    local = cloud_from_settings(settings)
    adapter = build_adapter(build_connections(load_configuration_from_env(settings), local), local, 10)
    agent = create_app(settings)[AGENT_APP_KEY]
    app_id = cloud.directory.agent.client_id
    service_url = "https://smba.example/amer/"
    activity = Activity.model_validate({
        "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": service_url, "text": text,
        "from": {"id": "29:adele", "name": "Adele"}, "conversation": {"id": f"a:{uuid.uuid4().hex}"},
        "recipient": {"id": f"28:{app_id}", "role": "connectoruser"}, "deliveryMode": "expectReplies"})
    claims = {"aud": app_id, "iss": "https://api.botframework.com", "serviceurl": service_url}
    try:
        response = await adapter.process_activity(Admitted(Path.BOT_SERVICE, claims, activity, "t").identity,
                                                  activity, agent.on_turn)
    finally:
        await adapter.aclose()
    assert response is not None and response.status == 200 and isinstance(response.body, dict)
    return response.body["activities"]


async def test_logout_on_the_bot_service_path_signs_out_whatever_role_the_body_claims(
    threaded_cloud: Cloud,
) -> None:
    replies = await _teams_turn_claiming_the_connector_role(threaded_cloud, "/logout")

    assert [reply.get("text") for reply in replies] == [SIGNED_OUT]


async def test_a_command_on_the_bot_service_path_asks_for_a_teams_sign_in_whatever_role_the_body_claims(
    threaded_cloud: Cloud,
) -> None:
    replies = await _teams_turn_claiming_the_connector_role(threaded_cloud, "/me")

    cards = [attachment["contentType"] for reply in replies for attachment in reply.get("attachments") or []]
    assert OAUTH_CARD in cards
