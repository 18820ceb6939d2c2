"""The local channels against a small agent started here: it checks channel tokens as the SDK does (JWKS over https
with the cloud's CA) and replies through the Bot Connector with a bearer from the local Entra ID."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from microsoft_agents.activity import Activity, Channels
from microsoft_agents.hosting.core.connector import MCSConnectorClient
from microsoft_agents.hosting.core.connector.client.connector_client import ConnectorClient

from localcloud import channels
from localcloud.__main__ import main
from localcloud.channels import ActivityLog, _activity_id, parse_event_stream, reply_lines
from localcloud.client import LocalCloudClient, LocalCloudError
from localcloud.launcher import CloudProcess
from localcloud.streams import CANCELED_BY_USER, NOT_ALLOWED, NOT_ENABLED
from localcloud.tenant import OFFICE_WEB_CLIENT_ID, TEAMS_DESKTOP_CLIENT_ID, stable_id

SETTINGS = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
AGENT_NAME = "Graph Productivity Agent"


@dataclass
class Agent:
    """Echoes messages: Teams replies through the Bot Connector, Copilot Studio replies per delivery mode."""

    settings: dict[str, str]
    ssl: ssl.SSLContext
    url: str = ""
    inbox: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    @property
    def app_id(self) -> str:
        return self.settings[f"{SETTINGS}CLIENTID"]

    async def bot_token(self, scope: str = "https://api.botframework.com/.default") -> str:
        """Client credentials at the local Entra ID, as MSAL would ask for them."""
        url = f"{self.settings['LOGIN_ENDPOINT']}/{self.settings[f'{SETTINGS}TENANTID']}/oauth2/v2.0/token"
        form = {"grant_type": "client_credentials", "client_id": self.app_id,
                "client_secret": self.settings[f"{SETTINGS}CLIENTSECRET"], "scope": scope}
        async with aiohttp.ClientSession() as http, http.post(url, data=form, ssl=self.ssl) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["access_token"]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        activity = await request.json()
        self.inbox.append((dict(request.headers), activity))
        reply = {"type": "message", "text": f"echo: {activity.get('text')}", "replyToId": activity["id"]}
        if activity["recipient"].get("role") == "connectoruser":
            return await self.answer_connector(request, activity, reply)
        if activity["type"] == "invoke":
            return web.json_response({"received": activity["name"]})
        if activity.get("text", "").endswith("quiet"):
            return web.Response(status=202)
        url = f"{activity['serviceUrl']}v3/conversations/{activity['conversation']['id']}/activities/{activity['id']}"
        headers = {"Authorization": f"Bearer {await self.bot_token()}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for body in ({"type": "typing"}, reply):
                async with http.post(url, json=body) as response:
                    assert response.status == 200
        return web.Response(status=202)

    async def answer_connector(
        self, request: web.Request, activity: dict[str, Any], reply: dict[str, Any]
    ) -> web.StreamResponse:
        mode = activity.get("deliveryMode")
        if mode == "expectReplies":
            return web.json_response({"activities": [reply]})
        if mode == "stream":
            stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await stream.prepare(request)
            for event, data in (("activity", {"type": "typing"}), ("activity", reply),
                                ("invokeResponse", {"status": 200, "body": {"ok": True}})):
                await stream.write(f"event: {event}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())
            await stream.write_eof()
            return stream
        async with aiohttp.ClientSession() as http, http.post(activity["serviceUrl"], json=reply) as response:
            assert response.status == 200
        return web.Response(status=202)


@pytest.fixture(scope="session")
async def agent(cloud: CloudProcess, client_ssl: ssl.SSLContext) -> AsyncIterator[Agent]:
    agent = Agent(cloud.settings, client_ssl)
    app = web.Application()
    app.router.add_post("/api/messages", agent.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    agent.url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/messages"
    try:
        yield agent
    finally:
        await runner.cleanup()


@pytest.fixture
async def local(cloud: CloudProcess) -> AsyncIterator[LocalCloudClient]:
    async with LocalCloudClient(cloud.url) as client:
        yield client


def _entra_issuer(cloud: CloudProcess) -> str:
    return f"https://login.microsoftonline.com/{cloud.settings[f'{SETTINGS}TENANTID']}/v2.0"


def _verify(token: str, jwks_url: str, client_ssl: ssl.SSLContext, audience: str, issuer: str) -> dict[str, Any]:
    """What the agent's JWT middleware does, with the cloud seam's JWKS URL."""
    key = jwt.PyJWKClient(jwks_url, ssl_context=client_ssl).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer)


async def test_teams_message_reaches_agent_with_a_valid_channel_token(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess, client_ssl: ssl.SSLContext
) -> None:
    sent = await local.teams("adele", "hello quiet", agent_endpoint=agent.url)

    headers, activity = agent.inbox[-1]
    claims = await asyncio.to_thread(_verify, headers["Authorization"].removeprefix("Bearer "),
                                     cloud.settings["BOTFRAMEWORK_JWKS_URL"], client_ssl, agent.app_id,
                                     "https://api.botframework.com")
    assert sent.status == 202
    assert claims["serviceurl"] == activity["serviceUrl"] == f"{cloud.url}/teams/"
    assert activity["channelId"] == "msteams"
    assert activity["from"]["id"].startswith("29:") and activity["from"]["aadObjectId"] == stable_id("user:adele")
    assert activity["recipient"]["id"] == f"28:{agent.app_id}"
    assert activity["conversation"] == {"id": sent.conversation, "conversationType": "personal",
                                        "tenantId": cloud.settings[f"{SETTINGS}TENANTID"]}
    assert activity["channelData"]["tenant"]["id"] == cloud.settings[f"{SETTINGS}TENANTID"]
    assert activity["localTimezone"] == "America/Los_Angeles"
    assert {"type": "clientInfo", "timezone": "America/Los_Angeles"}.items() <= activity["entities"][0].items()


async def test_a_time_zone_the_client_names_is_sent_as_given_even_one_nobody_knows(local: LocalCloudClient,
                                                                                   agent: Agent) -> None:
    sent = await local.teams("adele", "hello quiet", local_timezone="Mars/Olympus_Mons", agent_endpoint=agent.url)

    assert sent.activity["localTimezone"] == "Mars/Olympus_Mons"
    assert sent.activity["localTimestamp"].endswith("+00:00")


async def test_group_chat_message_mentions_the_agent_as_teams_does(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("megan", "what is on my calendar quiet", conversation_type="groupChat",
                             agent_endpoint=agent.url)

    activity = sent.activity
    assert activity["text"] == f"<at>{AGENT_NAME}</at> what is on my calendar quiet"
    assert activity["entities"][0] == {"type": "mention", "text": f"<at>{AGENT_NAME}</at>",
                                       "mentioned": {"id": f"28:{agent.app_id}", "name": AGENT_NAME}}
    assert activity["conversation"]["conversationType"] == "groupChat" and activity["conversation"]["isGroup"]
    assert sent.conversation.startswith("19:") and sent.conversation.endswith("@thread.v2")


async def test_agent_replies_are_recorded_with_typing(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("isaiah", "hi", agent_endpoint=agent.url)

    assert [(r.op, r.type, r.text) for r in sent.replies] == [
        ("reply", "typing", None), ("reply", "message", "echo: hi")
    ]
    assert sent.replies[1].activity["replyToId"] == sent.activity["id"]
    assert sent.last >= sent.replies[1].seq


async def test_long_poll_returns_a_later_reply(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("lidia", "hello quiet", agent_endpoint=agent.url)
    poll = asyncio.create_task(local.activities(sent.conversation, after=sent.last, wait=10))
    await asyncio.sleep(0.2)
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities"
    headers = {"Authorization": f"Bearer {await agent.bot_token()}"}
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": "message", "text": "later"},
                                                          headers=headers) as response:
        assert response.status == 200
        new_id = (await response.json())["id"]

    found, last = await poll
    assert [(r.op, r.text, r.activity["id"]) for r in found] == [("send", "later", new_id)]
    assert last == found[0].seq


@pytest.mark.parametrize("kind", ["none", "garbage", "graph-audience"])
async def test_reply_without_a_bot_framework_bearer_gets_401_and_is_not_recorded(
    local: LocalCloudClient, agent: Agent, kind: str
) -> None:
    sent = await local.teams("alex", "hello quiet", agent_endpoint=agent.url)
    bearer = {"none": None, "garbage": "Bearer not-a-jwt",
              "graph-audience": f"Bearer {await agent.bot_token('https://graph.microsoft.com/.default')}"}[kind]
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities/{sent.activity['id']}"
    async with aiohttp.ClientSession() as http, http.post(
        url, json={"type": "message", "text": "sneaky"}, headers={"Authorization": bearer} if bearer else {}
    ) as response:
        assert response.status == 401
        assert await response.json() == {"message": "Authorization has been denied for this request."}

    assert (await local.activities(sent.conversation, after=sent.last))[0] == []


async def test_sso_token_exchange_carries_a_teams_sso_token_for_the_agent(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess, client_ssl: ssl.SSLContext
) -> None:
    sent = await local.teams_sso("diego", agent_endpoint=agent.url)

    value = agent.inbox[-1][1]["value"]
    claims = await asyncio.to_thread(_verify, value["token"], cloud.settings["ENTRA_JWKS_URL"], client_ssl,
                                     agent.app_id, _entra_issuer(cloud))
    assert (sent.status, sent.body) == (200, {"received": "signin/tokenExchange"})
    assert (claims["azp"], claims["scp"], claims["oid"]) == (TEAMS_DESKTOP_CLIENT_ID, "access_as_user",
                                                             stable_id("user:diego"))
    assert value["connectionName"] == "graph" and sent.activity["value"]["token"] == "(redacted)"


async def test_m365_copilot_delivers_through_the_teams_channel_marked_as_copilot(
    local: LocalCloudClient, agent: Agent
) -> None:
    in_teams = await local.teams("megan", "hello quiet", agent_endpoint=agent.url)
    sent = await local.m365_copilot("megan", "hello quiet", agent_endpoint=agent.url)

    activity = agent.inbox[-1][1]
    assert activity["channelId"] == "msteams" and {"type": "ProductInfo", "id": "COPILOT"} in activity["entities"]
    assert Activity.model_validate(activity).channel_id == Channels.m365_copilot
    assert activity["conversation"]["conversationType"] == "personal" and "<at>" not in activity["text"]
    assert sent.conversation != in_teams.conversation, "Copilot keeps its own chat with the agent"


async def test_sso_in_m365_copilot_carries_a_token_of_the_microsoft_365_web_client(
    local: LocalCloudClient, agent: Agent
) -> None:
    await local.teams_sso("diego", surface="m365copilot", agent_endpoint=agent.url)

    claims = jwt.decode(agent.inbox[-1][1]["value"]["token"], options={"verify_signature": False})
    assert (claims["azp"], claims["aud"], claims["scp"]) == (OFFICE_WEB_CLIENT_ID, agent.app_id, "access_as_user")


async def test_the_teams_channel_takes_a_valid_stream_and_refuses_a_malformed_one_as_teams_does(
    local: LocalCloudClient, agent: Agent
) -> None:
    sent = await local.teams("patti", "hello quiet", agent_endpoint=agent.url)
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities/{sent.activity['id']}"
    informative = {"type": "typing", "text": "Working…",
                   "entities": [{"type": "streaminfo", "streamType": "informative", "streamSequence": 1}]}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {await agent.bot_token()}"}) as http:
        async with http.post(url, json=informative) as response:
            assert response.status == 201
            stream_id = (await response.json())["id"]
        await asyncio.sleep(1)
        malformed = {"type": "message", "text": "Done", "entities": [
            {"type": "streaminfo", "streamType": "final", "streamId": stream_id, "streamSequence": 2}]}
        async with http.post(url, json=malformed) as response:
            refused = (response.status, (await response.json())["error"]["code"])
        final = {"type": "message", "text": "Done", "entities": [
            {"type": "streaminfo", "streamType": "final", "streamId": stream_id}]}
        async with http.post(url, json=final) as response:
            taken = (response.status, await response.json())

    report = await local.streams(sent.conversation)
    assert refused == (400, "BadRequest")
    assert taken == (202, {})
    assert [entry["activity"] for entry in report["refused"]] == [{"replyToId": sent.activity["id"], **malformed}]
    assert report["streams"][0]["completed"] and report["streams"][0]["id"] == stream_id
    recorded, _ = await local.activities(sent.conversation, after=sent.last)
    assert [(entry.type, entry.activity["id"]) for entry in recorded] == [("typing", stream_id), ("message", stream_id)]


INFORMATIVE = {"type": "typing", "text": "Working…",
               "entities": [{"type": "streaminfo", "streamType": "informative", "streamSequence": 1}]}


async def test_a_stream_start_whose_answer_is_lost_opens_the_stream_all_the_same(
    local: LocalCloudClient, agent: Agent
) -> None:
    sent = await local.teams("alex", "hello quiet", agent_endpoint=agent.url)
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities/{sent.activity['id']}"
    await local.add_fault("channels", "/teams/v3/conversations/*", lose_answer=True, stream_type="informative",
                          count=1)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {await agent.bot_token()}"}) as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.post(url, json=INFORMATIVE):
                pass
        async with http.post(url, json=INFORMATIVE) as response:
            again = (response.status, (await response.json())["error"]["message"])

    assert again == (403, NOT_ALLOWED), "the chat has a stream open: the lost answer's"
    await local.stop_stream(sent.conversation)


async def test_after_stop_the_channel_refuses_the_streams_final_message_as_canceled_by_user(
    local: LocalCloudClient, agent: Agent
) -> None:
    sent = await local.teams("isaiah", "hello quiet", agent_endpoint=agent.url)
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities/{sent.activity['id']}"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {await agent.bot_token()}"}) as http:
        async with http.post(url, json=INFORMATIVE) as response:
            stream_id = (await response.json())["id"]
        stopped = await local.stop_stream(sent.conversation)
        await asyncio.sleep(1)
        final = {"type": "message", "text": "Done", "entities": [
            {"type": "streaminfo", "streamType": "final", "streamId": stream_id}]}
        async with http.post(url, json=final) as response:
            refused = (response.status, (await response.json())["error"])

    assert stopped["id"] == stream_id and stopped["stopped"]
    assert refused == (403, {"code": "ContentStreamNotAllowed", "message": CANCELED_BY_USER})
    recorded, _ = await local.activities(sent.conversation, after=sent.last)
    assert [entry.type for entry in recorded] == ["typing"]


async def test_stop_with_no_open_stream_is_404(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("lidia", "hello quiet", agent_endpoint=agent.url)

    with pytest.raises(LocalCloudError) as refused:
        await local.stop_stream(sent.conversation)
    assert refused.value.status == 404


async def test_streaming_in_a_group_chat_is_refused_as_not_enabled(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("patti", "hello quiet", conversation_type="groupChat", agent_endpoint=agent.url)
    url = f"{sent.activity['serviceUrl']}v3/conversations/{sent.conversation}/activities/{sent.activity['id']}"
    informative = {"type": "typing", "text": "Working…",
                   "entities": [{"type": "streaminfo", "streamType": "informative", "streamSequence": 1}]}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {await agent.bot_token()}"}) as http, \
            http.post(url, json=informative) as response:
        assert response.status == 400
        assert (await response.json())["error"] == {"code": "BadArgument", "message": NOT_ENABLED}


async def test_copilot_expect_replies_returns_the_replies_from_the_body(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess, client_ssl: ssl.SSLContext
) -> None:
    result = await local.copilot("adele", "who am I", delivery="expectReplies", agent_endpoint=agent.url)

    headers, activity = agent.inbox[-1]
    claims = await asyncio.to_thread(_verify, headers["Authorization"].removeprefix("Bearer "),
                                     cloud.settings["ENTRA_JWKS_URL"], client_ssl, agent.app_id,
                                     _entra_issuer(cloud))
    assert [r["text"] for r in result.replies] == ["echo: who am I"]
    assert activity["recipient"]["role"] == "connectoruser" and activity["deliveryMode"] == "expectReplies"
    assert activity["channelId"] == "pva-studio" and headers["x-ms-agentsdk-caller"] == "Connector"
    assert claims["azp"] == claims["aud"] == agent.app_id and claims["oid"] == stable_id("user:adele")


async def test_copilot_azp_mismatch_names_the_copilot_studio_app(local: LocalCloudClient, agent: Agent) -> None:
    await local.copilot("adele", "who am I", azp_mismatch=True, agent_endpoint=agent.url)

    token = agent.inbox[-1][0]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == agent.app_id and claims["azp"] == stable_id("app:copilot-studio")


async def test_the_teams_channel_presents_the_token_it_holds_until_it_nears_expiry(
    local: LocalCloudClient, agent: Agent
) -> None:
    await local.teams("diego", "first quiet", agent_endpoint=agent.url)
    first = agent.inbox[-1][0]["Authorization"]
    await local.teams("patti", "second quiet", agent_endpoint=agent.url)

    assert agent.inbox[-1][0]["Authorization"] == first


async def test_copilot_presents_a_new_user_token_per_request_unless_asked_for_the_held_one(
    local: LocalCloudClient, agent: Agent
) -> None:
    tokens = []
    for held in (False, False, True, True):
        await local.copilot("diego", "who am I", agent_endpoint=agent.url, held_token=held)
        tokens.append(agent.inbox[-1][0]["Authorization"])

    assert tokens[0] != tokens[1] != tokens[2] and tokens[2] == tokens[3]


async def test_copilot_stream_answer_is_parsed_from_the_event_stream(local: LocalCloudClient, agent: Agent) -> None:
    result = await local.copilot("megan", "stream it", delivery="stream", agent_endpoint=agent.url)

    assert [r["type"] for r in result.replies] == ["typing", "message"]
    assert result.replies[1]["text"] == "echo: stream it"
    assert result.invoke_response == {"status": 200, "body": {"ok": True}}


def test_event_stream_parser_handles_multiline_data_and_crlf() -> None:
    text = (
        'event: activity\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'
        ': comment\n\nevent: invokeResponse\ndata: {"status": 200}\n\n'
    )
    assert parse_event_stream(text) == [("activity", {"a": 1}), ("invokeResponse", {"status": 200})]


async def test_copilot_normal_delivery_returns_the_callbacks(local: LocalCloudClient, agent: Agent) -> None:
    result = await local.copilot("patti", "call me back", delivery="normal", agent_endpoint=agent.url)

    assert result.status == 202
    assert [r["text"] for r in result.replies] == ["echo: call me back"]
    assert "deliveryMode" not in result.activity
    assert result.activity["serviceUrl"].endswith(f"/copilot/{result.conversation}/")


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("teams", {"text": "hi"}, 400, "user is required"),
        ("teams", {"user": "nobody", "text": "hi"}, 404, "unknown user"),
        ("teams", {"user": "adele"}, 400, "a message needs text"),
        ("teams", {"user": "adele", "type": "invoke"}, 400, "an invoke needs a name"),
        ("teams", {"user": "adele", "type": "bogus"}, 400, "type must be one of"),
        ("teams", {"user": "adele", "text": "hi", "mention": "yes"}, 400, "mention must be a bool"),
        ("teams", {"user": "adele", "text": "hi", "conversation_type": "meeting"}, 400, "conversation_type"),
        ("teams", {"user": "adele", "text": "hi", "agent_endpoint": "http://example.com/api"}, 400, "loopback"),
        ("teams", {"user": "adele", "text": "hi", "sso": True}, 400, "signin/tokenExchange"),
        ("copilot", {"user": "adele", "text": "hi", "delivery": "later"}, 400, "delivery must be one of"),
        ("copilot", {"user": "adele", "text": "hi", "azp_mismatch": 1}, 400, "azp_mismatch must be a bool"),
    ],
)
async def test_bad_control_input_gets_a_clear_error(
    cloud: CloudProcess, path: str, body: dict[str, Any], status: int, says: str
) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{cloud.url}/_localcloud/{path}/activities",
                                                          json=body) as response:
        assert response.status == status
        assert says in (await response.json())["error"]


async def test_bad_poll_and_non_json_body_get_400(local: LocalCloudClient, cloud: CloudProcess, agent: Agent) -> None:
    sent = await local.teams("adele", "hello quiet", agent_endpoint=agent.url)
    with pytest.raises(LocalCloudError) as error:
        await local.activities(sent.conversation, after=-1)
    assert error.value.status == 400
    async with aiohttp.ClientSession() as http, http.post(f"{cloud.url}/_localcloud/teams/activities",
                                                          data=b"[1") as response:
        assert response.status == 400


def _raw_message(cloud: CloudProcess, agent: Agent, text: str) -> dict[str, Any]:
    return {"type": "message", "id": "raw-1", "channelId": "msteams", "serviceUrl": f"{cloud.url}/teams/",
            "from": {"id": "29:raw-user"}, "recipient": {"id": f"28:{agent.app_id}"},
            "conversation": {"id": f"a:raw-{text}"}, "text": text}


async def test_a_raw_body_reaches_the_agent_as_sent_with_the_channels_token(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess, client_ssl: ssl.SSLContext
) -> None:
    body = _raw_message(cloud, agent, "hello quiet") | {"unknownField": [1, {"x": None}]}

    sent = await local.raw("teams", "adele", body, agent_endpoint=agent.url)

    headers, received = agent.inbox[-1]
    claims = await asyncio.to_thread(_verify, headers["Authorization"].removeprefix("Bearer "),
                                     cloud.settings["BOTFRAMEWORK_JWKS_URL"], client_ssl, agent.app_id,
                                     "https://api.botframework.com")
    assert sent.status == 202 and received == body and claims["serviceurl"] == f"{cloud.url}/teams/"


async def test_replies_to_a_raw_bodys_conversation_are_recorded(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess
) -> None:
    sent = await local.raw("teams", "adele", _raw_message(cloud, agent, "hello"), agent_endpoint=agent.url)

    assert [reply.text for reply in sent.replies if reply.type == "message"] == ["echo: hello"]


async def test_raw_text_goes_out_byte_for_byte_with_its_content_type(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess
) -> None:
    text = json.dumps(_raw_message(cloud, agent, "typed quiet"), indent=3)

    await local.raw("teams", "adele", raw=text, content_type="text/plain", agent_endpoint=agent.url)

    headers, received = agent.inbox[-1]
    assert headers["Content-Type"] == "text/plain" and received == json.loads(text)


async def test_a_raw_copilot_body_carries_the_users_connector_token(
    local: LocalCloudClient, agent: Agent, cloud: CloudProcess, client_ssl: ssl.SSLContext
) -> None:
    body = {"type": "message", "id": "raw-2", "text": "hi", "deliveryMode": "expectReplies",
            "conversation": {"id": "raw-copilot"}, "recipient": {"id": agent.app_id, "role": "connectoruser"}}

    sent = await local.raw("copilot", "megan", body, agent_endpoint=agent.url)

    headers, _ = agent.inbox[-1]
    claims = await asyncio.to_thread(_verify, headers["Authorization"].removeprefix("Bearer "),
                                     cloud.settings["ENTRA_JWKS_URL"], client_ssl, agent.app_id, _entra_issuer(cloud))
    assert sent.status == 200 and claims["oid"] == stable_id("user:megan")


async def test_a_raw_request_needs_exactly_one_of_body_and_raw(cloud: CloudProcess) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{cloud.url}/_localcloud/raw",
                                                          json={"user": "adele", "body": {}, "raw": "x"}) as response:
        assert response.status == 400 and "either body" in (await response.json())["error"]


def test_reply_lines_read_cards_as_a_person_would() -> None:
    activity = {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "body": [
            {"type": "TextBlock", "text": "Your day"},
            {"type": "Container", "items": [{"type": "FactSet", "facts": [{"title": "10:00", "value": "Standup"}]}]},
        ]}},
        {"contentType": "application/vnd.microsoft.card.oauth",
         "content": {"text": "Sign in", "buttons": [{"type": "signin", "value": "http://127.0.0.1/signin"}]}},
    ]}
    assert reply_lines(activity) == ["Your day", "10:00: Standup", "[sign in] Sign in: http://127.0.0.1/signin"]


async def test_say_prints_the_agents_reply(
    cloud: CloudProcess, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(main, ["say", "--cloud", cloud.url, "--agent", agent.url, "--user", "adele",
                                          "--wait", "0.5", "hello there"])

    assert code == 0
    assert "agent> echo: hello there" in capsys.readouterr().out


async def test_say_speaks_as_microsoft_365_copilot(
    cloud: CloudProcess, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(main, ["say", "--channel", "m365copilot", "--cloud", cloud.url, "--agent",
                                          agent.url, "--user", "adele", "--wait", "0.5", "who's my manager"])

    assert code == 0
    assert "agent> echo: who's my manager" in capsys.readouterr().out
    assert {"type": "ProductInfo", "id": "COPILOT"} in agent.inbox[-1][1]["entities"]


async def test_say_with_an_unknown_user_is_bad_usage(
    cloud: CloudProcess, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(main, ["say", "--channel", "copilot", "--cloud", cloud.url, "--agent", agent.url,
                                          "--user", "nobody", "hi"])

    assert code == 2
    assert "unknown user" in capsys.readouterr().out


async def test_sdk_connector_client_calls_land_in_the_teams_conversation(local: LocalCloudClient, agent: Agent) -> None:
    sent = await local.teams("adele", "hello quiet", agent_endpoint=agent.url)
    cid, aid = sent.conversation, sent.activity["id"]

    connector = ConnectorClient(sent.activity["serviceUrl"], await agent.bot_token())
    try:
        conversations = connector.conversations
        reply = await conversations.reply_to_activity(cid, aid, Activity(type="message", text="one"))
        await conversations.send_to_conversation(cid, Activity(type="message", text="two"))
        await conversations.update_activity(cid, reply.id, Activity(type="message", text="one, edited"))
        await conversations.delete_activity(cid, reply.id)
        members = await conversations.get_conversation_members(cid)
    finally:
        await connector.close()

    found, _ = await local.activities(cid, after=sent.last)
    assert [(r.op, r.text) for r in found] == [("reply", "one"), ("send", "two"), ("update", "one, edited"),
                                               ("delete", None)]
    assert found[2].activity["id"] == found[3].activity["id"] == reply.id
    assert [m.aad_object_id for m in members] == [stable_id("user:adele")]


async def test_sdk_mcs_connector_client_posts_to_the_copilot_callback(local: LocalCloudClient, agent: Agent) -> None:
    result = await local.copilot("adele", "hi", delivery="expectReplies", agent_endpoint=agent.url)

    async with MCSConnectorClient(result.activity["serviceUrl"]) as connector:
        response = await connector.conversations.reply_to_activity(
            result.conversation, result.activity["id"], Activity(type="message", text="from the SDK")
        )

    found, _ = await local.activities(result.conversation)
    assert [(r.text, r.activity["id"]) for r in found] == [("from the SDK", response.id)]


def test_activity_ids_made_in_the_same_microsecond_differ() -> None:
    ids = [_activity_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids) and all(value.isdigit() for value in ids)
    assert [int(value) for value in ids] == sorted(int(value) for value in ids)


async def test_the_activity_log_drops_its_oldest_entries_in_bulk_and_keeps_numbering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channels, "KEPT_ACTIVITIES", 2)
    log = ActivityLog()
    for number in range(1, 6):
        await log.record("c", "send", {"type": "message", "text": str(number)})

    assert log.last == 5
    assert [(entry["seq"], entry["activity"]["text"]) for entry in log.after("c", 0)] == [(3, "3"), (4, "4"), (5, "5")]
    assert [entry["seq"] for entry in log.after("c", 4)] == [5]
