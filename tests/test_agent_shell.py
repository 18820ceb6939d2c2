"""The agent's shell on the local cloud: who may talk to /api/messages, and what it answers."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import create_app
from localcloud.cloud import Cloud
from localcloud.pki import SigningKey
from localcloud.tenant import USERS

pytestmark = pytest.mark.asyncio


def _message(text: str, *, delivery_mode: str = "expectReplies", service_url: str = "http://127.0.0.1:9/") -> dict:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:user", "name": "Adele Vance"},
        "recipient": {"id": "28:agent", "name": "Agent"},
        "conversation": {"id": "conversation-1"},
        "text": text,
        "deliveryMode": delivery_mode,
    }


async def _texts(response: Any) -> list[str]:
    """Every reply as text: its own text and the plain-text fallback of its cards."""
    body = await response.json()
    return [
        text
        for activity in body["activities"]
        for text in [activity.get("text") or "",
                     *(attachment["content"].get("fallbackText", "") for attachment in activity.get("attachments", []))]
    ]


async def test_health_endpoint_answers_ok(in_process_agent: TestClient) -> None:
    response = await in_process_agent.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_unauthenticated_loopback_request_on_the_local_cloud_gets_the_help_reply(
    in_process_agent: TestClient
) -> None:
    response = await in_process_agent.post("/api/messages", json=_message("hello"))

    assert response.status == 200
    texts = await _texts(response)
    assert any("/calendar" in text for text in texts)


async def test_channel_token_from_the_local_bot_service_is_accepted(
    in_process_agent: TestClient, threaded_cloud: Cloud
) -> None:
    token = threaded_cloud.issuer.channel_token(app_id=threaded_cloud.directory.agent.client_id,
                                                service_url="http://127.0.0.1:9/")
    response = await in_process_agent.post("/api/messages", json=_message("help"),
                                      headers={"Authorization": f"Bearer {token}"})

    assert response.status == 200
    assert any("/files" in text for text in await _texts(response))


def _forged(cloud: Cloud, key: SigningKey | None = None, **changes: Any) -> str:
    now = int(time.time())
    claims = {"aud": cloud.directory.agent.client_id, "iss": "https://api.botframework.com", "iat": now, "nbf": now,
              "exp": now + 600, "serviceurl": "http://127.0.0.1:9/"} | changes
    key = key or cloud.issuer.botframework_key
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


@pytest.mark.parametrize(
    "case",
    ["signed by another key", "expired", "for another audience", "tid not matching iss"],
)
async def test_invalid_tokens_are_rejected_with_401(
    in_process_agent: TestClient, threaded_cloud: Cloud, case: str
) -> None:
    cloud = threaded_cloud
    if case == "signed by another key":
        other = SigningKey.generate()
        token = _forged(cloud, key=SigningKey(kid=cloud.issuer.botframework_key.kid, private_key=other.private_key))
    elif case == "expired":
        token = _forged(cloud, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    elif case == "for another audience":
        token = _forged(cloud, aud=str(uuid.uuid4()))
    else:
        agent = cloud.directory.agent.client_id
        token = cloud.issuer.entra_token(audience=agent, client_id=agent, user=USERS[0], scopes=["access_as_user"],
                                         extra={"tid": str(uuid.uuid4())})

    response = await in_process_agent.post("/api/messages", json=_message("hello"),
                                      headers={"Authorization": f"Bearer {token}"})

    assert response.status == 401
    assert token not in await response.text()


@pytest.mark.parametrize("body", ["{}", "[1]", '{"type": 7}', "not json", '{"type": "message"}'])
async def test_a_body_that_is_no_activity_gets_400(in_process_agent: TestClient, body: str) -> None:
    response = await in_process_agent.post("/api/messages", data=body, headers={"Content-Type": "application/json"})

    assert response.status == 400


async def test_public_cloud_rejects_an_unauthenticated_request_with_401() -> None:
    settings = {
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": str(uuid.uuid4()),
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "not-used",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": str(uuid.uuid4()),
    }
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        response = await client.post("/api/messages", json=_message("hello"))

    assert response.status == 401
