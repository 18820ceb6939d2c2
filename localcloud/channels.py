"""The channels of the local cloud: a Teams-like Bot Service channel and Copilot Studio's agent-to-agent connector.

Teams: the control API builds Teams-shaped activities, signs them as Bot Service does and posts them to the agent;
the agent answers through the Bot Connector API at the serviceUrl `{channels}/teams/`, which checks its bearer.
Copilot Studio: activities carry `recipient.role = "connectoruser"` and a user token for the agent; replies come
back in the HTTP answer (expectReplies, stream) or as unauthenticated POSTs to the serviceUrl, as `MCSConnectorClient`
sends them. Every activity the agent sends is recorded with a sequence number and can be long-polled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from aiohttp import web
from dotenv import dotenv_values

from .cloud import OAUTH_CONNECTION_NAME, Cloud, describe
from .faults import Fault
from .streams import OUT_OF_ORDER, StreamRefused, Streams, stream_info
from .tenant import BOTFRAMEWORK_RESOURCE, OFFICE_WEB_CLIENT_ID, TEAMS_DESKTOP_CLIENT_ID, User, stable_id
from .tokens import HeldTokens, TokenRejected

COPILOT_CHANNEL_ID = "pva-studio"
"""`Channels.copilot_studio` in the SDK; keeps the connector's sign-in state apart from the Teams channel's."""
ACTIVITY_TYPES = frozenset(
    {"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing"}
)
CONVERSATION_TYPES = frozenset({"personal", "groupChat", "channel"})
SURFACES = frozenset({"teams", "m365copilot"})
M365_COPILOT_PRODUCT = {"type": "ProductInfo", "id": "COPILOT"}
"""How Microsoft 365 Copilot marks what it sends through the Teams channel (`msteams`): the SDK reads this entity as
the sub-channel and knows the channel as `msteams:COPILOT` (`Channels.m365_copilot`); its `StreamingResponse` then
keeps a Copilot stream alive. Microsoft's reply on Agents-for-net #224: "Currently M365 Copilot appears as the
team's channel"."""
DELIVERY_MODES = {"normal": None, "expectReplies": "expectReplies", "stream": "stream"}
MAX_WAIT_SECONDS = 60.0
DENIED = {"message": "Authorization has been denied for this request."}


class ControlError(Exception):
    """A bad control request; `message` says what to fix."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Conversation:
    id: str
    channel: str
    """`teams` (Teams and Microsoft 365 Copilot, which reaches agents through the Teams channel) or `copilot`
    (Copilot Studio's connector)."""
    conversation_type: str
    members: dict[str, User] = field(default_factory=dict)
    surface: str = "teams"
    """On the Teams channel: `teams`, or `m365copilot` for a chat in Microsoft 365 Copilot."""


KEPT_ACTIVITIES = 10_000
"""The log keeps at least the newest this many activities (twice as many at most): a benchmark's thousands of turns
would otherwise keep every card they were answered with."""


class ActivityLog:
    """Every activity the agent sent, in order, numbered; long-pollers wake on each new one."""

    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self._entries: list[dict[str, Any]] = []
        self._dropped = 0
        """How many of the oldest entries are gone: `_entries[0]` has seq `_dropped + 1`."""
        self._changed = asyncio.Condition()

    @property
    def last(self) -> int:
        return self._dropped + len(self._entries)

    async def record(self, conversation: str, op: str, activity: dict[str, Any]) -> dict[str, Any]:
        async with self._changed:
            entry = {"seq": self.last + 1, "conversation": conversation, "op": op, "activity": activity}
            self._entries.append(entry)
            if len(self._entries) >= 2 * KEPT_ACTIVITIES:
                del self._entries[:KEPT_ACTIVITIES]
                self._dropped += KEPT_ACTIVITIES
            self._changed.notify_all()
        return entry

    def after(self, conversation: str, seq: int) -> list[dict[str, Any]]:
        start = max(seq - self._dropped, 0)
        return [entry for entry in self._entries[start:] if entry["conversation"] == conversation]

    async def wait(self, conversation: str, seq: int, seconds: float) -> list[dict[str, Any]]:
        """The entries after `seq`, waiting up to `seconds` for the first one."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: bool(self.after(conversation, seq)))
        return self.after(conversation, seq)


LOG = web.AppKey("activity_log", ActivityLog)
CLOUD = web.AppKey("cloud", Cloud)
HELD = web.AppKey("held_tokens", HeldTokens)
"""The bearer tokens the channels present to the agent, kept until they near expiry (Bot Service's own, and each
user's Copilot Studio token); the agent validates each in full whether it saw it before or not."""
STREAMS = web.AppKey("streams", Streams)


_last_activity_id = [0]


def _activity_id() -> str:
    """Teams message ids are numeric: the time in microseconds, moved past the last id when two fall in the same
    microsecond, so they stay unique and ordered."""
    _last_activity_id[0] = max(time.time_ns() // 1000, _last_activity_id[0] + 1)
    return str(_last_activity_id[0])


def teams_user_id(user: User) -> str:
    """A stable Teams user id (`29:…`), as Teams keeps one per user and bot."""
    return "29:1" + hashlib.sha256(f"teams:{user.id}".encode()).hexdigest()[:40]


def _personal_conversation_id(user: User, agent_id: str, surface: str = "teams") -> str:
    """The user's one-on-one chat with the agent; Microsoft 365 Copilot keeps its own, apart from Teams'."""
    kind = "personal" if surface == "teams" else surface
    return "a:1" + hashlib.sha256(f"{kind}:{user.id}:{agent_id}".encode()).hexdigest()[:48]


def _new_conversation_id(conversation_type: str) -> str:
    return f"19:{uuid.uuid4().hex}@thread.{'tacv2' if conversation_type == 'channel' else 'v2'}"


def _teams_member(user: User, tenant_id: str) -> dict[str, Any]:
    return {
        "id": teams_user_id(user),
        "name": user.display_name,
        "aadObjectId": user.id,
        "givenName": user.given_name,
        "surname": user.surname,
        "email": user.mail,
        "userPrincipalName": user.user_principal_name,
        "tenantId": tenant_id,
        "userRole": "user",
    }


# --- control input ---------------------------------------------------------------------------------------------


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ControlError("the body must be a JSON object") from error
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _opt(body: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(key, default)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ControlError(f"{key} must be a {names}")
    return value


def _choice(body: dict[str, Any], key: str, choices: frozenset[str] | dict[str, Any], default: str) -> str:
    value = _opt(body, key, str, default)
    if value not in choices:
        raise ControlError(f"{key} must be one of {', '.join(sorted(choices))}")
    return value


def _user(cloud: Cloud, body: dict[str, Any]) -> User:
    name = body.get("user")
    if not isinstance(name, str) or not name.strip():
        raise ControlError("user is required: a user's short name, UPN or object id")
    user = cloud.directory.user_by_name(name)
    if user is None:
        raise ControlError(f"unknown user {name!r}; see `python -m localcloud users`", status=404)
    return user


def _agent_endpoint(cloud: Cloud, body: dict[str, Any]) -> str:
    endpoint = _opt(body, "agent_endpoint", str, cloud.agent_endpoint)
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ControlError("agent_endpoint must be an http(s) URL on the loopback interface")
    return endpoint


def _common(body: dict[str, Any]) -> dict[str, Any]:
    """type, text, name and value, checked the same way for both channels."""
    kind = _choice(body, "type", ACTIVITY_TYPES, "message")
    text = _opt(body, "text", str)
    name = _opt(body, "name", str)
    value = body.get("value")
    if kind == "message" and text is None and value is None:
        raise ControlError("a message needs text (or a value, as an Adaptive Card submit sends)")
    if kind == "invoke" and not name:
        raise ControlError("an invoke needs a name, e.g. signin/verifyState")
    return {"type": kind, "text": text, "name": name, "value": value}


# --- posting to the agent --------------------------------------------------------------------------------------


async def _exchange(
    cloud: Cloud, endpoint: str, activity: Any, headers: dict[str, str], content_type: str = "application/json"
) -> tuple[int, str, str]:
    """POST an activity to the agent (a JSON value, or `bytes` sent as they are); its status, content type and body
    text."""
    data = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    try:
        async with cloud.http.post(endpoint, data=data, headers={**headers, "Content-Type": content_type}) as response:
            return response.status, response.content_type, await response.text()
    except aiohttp.ClientConnectionError as error:
        raise ControlError(f"the agent at {endpoint} is not reachable: {error}", status=502) from error
    except TimeoutError as error:
        raise ControlError(f"the agent at {endpoint} did not answer in time", status=504) from error


def _json_or_text(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_event_stream(text: str) -> list[tuple[str, Any]]:
    """`text/event-stream` into (event, data) pairs, data parsed as JSON when it is JSON."""
    events: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                event = value
            elif key == "data":
                data.append(value)
        if data:
            joined = "\n".join(data)
            try:
                events.append((event, json.loads(joined)))
            except json.JSONDecodeError:
                events.append((event, joined))
    return events


# --- Teams -----------------------------------------------------------------------------------------------------


def _teams_conversation(log: ActivityLog, cloud: Cloud, user: User, body: dict[str, Any]) -> Conversation:
    """The conversation the request names or implies; a new one is registered only once the activity is valid."""
    conversation_type = _choice(body, "conversation_type", CONVERSATION_TYPES, "personal")
    surface = _choice(body, "surface", SURFACES, "teams")
    if surface == "m365copilot" and conversation_type != "personal":
        raise ControlError("Microsoft 365 Copilot chats are personal: leave conversation_type out")
    cid = _opt(body, "conversation", str)
    if cid is None:
        cid = (
            _personal_conversation_id(user, cloud.directory.agent.client_id, surface)
            if conversation_type == "personal"
            else _new_conversation_id(conversation_type)
        )
    conversation = log.conversations.get(cid) or Conversation(cid, "teams", conversation_type, surface=surface)
    if conversation.channel != "teams":
        raise ControlError(f"conversation {cid} belongs to the {conversation.channel} channel")
    if conversation.surface != surface:
        raise ControlError(f"conversation {cid} is a {conversation.surface} chat, not a {surface} one")
    return conversation


def build_teams_activity(cloud: Cloud, user: User, conversation: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    """An activity shaped as Teams sends it through Bot Service."""
    common = _common(body)
    locale = _opt(body, "locale", str, "en-US")
    timezone = _opt(body, "local_timezone", str, user.iana_time_zone)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):  # sent as given, as a client's can be: only the local time is UTC
        zone = ZoneInfo("UTC")
    mention = _opt(body, "mention", bool, conversation.conversation_type != "personal")
    agent = cloud.directory.agent
    bot = {"id": f"28:{agent.client_id}", "name": agent.display_name}
    sender = {"id": teams_user_id(user), "aadObjectId": user.id, "name": user.display_name}
    text = common["text"]
    entities: list[dict[str, Any]] = [
        {"type": "clientInfo", "locale": locale, "country": locale.rpartition("-")[2], "platform": "Web",
         "timezone": timezone}
    ]
    if mention and text is not None:
        tag = f"<at>{agent.display_name}</at>"
        text = f"{tag} {text}"
        entities.insert(0, {"type": "mention", "text": tag, "mentioned": bot})
    if conversation.surface == "m365copilot":
        entities.append(dict(M365_COPILOT_PRODUCT))
    channel_data: dict[str, Any] = {"tenant": {"id": cloud.tenant_id}}
    if conversation.conversation_type == "channel":
        channel_data |= {"team": {"id": conversation.id}, "channel": {"id": conversation.id}}
    activity: dict[str, Any] = {
        "type": common["type"],
        "id": _activity_id(),
        "timestamp": datetime.now(UTC).isoformat(),
        "localTimestamp": datetime.now(zone).isoformat(),
        "localTimezone": timezone,
        "serviceUrl": teams_service_url(cloud),
        "channelId": "msteams",
        "from": sender,
        "recipient": bot,
        "conversation": {
            "id": conversation.id,
            "conversationType": conversation.conversation_type,
            "tenantId": cloud.tenant_id,
            **({"isGroup": True} if conversation.conversation_type != "personal" else {}),
        },
        "channelData": channel_data,
        "entities": entities,
        "locale": locale,
    }
    if text is not None:
        activity["text"] = text
        activity["textFormat"] = "plain"
    if common["name"] is not None:
        activity["name"] = common["name"]
    value = _teams_value(cloud, user, conversation, common, body)
    if value is not None:
        activity["value"] = value
    if common["type"] == "conversationUpdate":
        activity["membersAdded"] = [bot, sender]
    if common["type"] == "installationUpdate":
        activity["action"] = "add"
    return activity


def _teams_value(cloud: Cloud, user: User, conversation: Conversation, common: dict[str, Any],
                 body: dict[str, Any]) -> Any:
    """The invoke value; for `signin/tokenExchange` with `sso` the SSO token the client would get for the user: the
    Teams client's, or in Microsoft 365 Copilot the Microsoft 365 (Office) web client's."""
    value = common["value"]
    if not _opt(body, "sso", bool, False):
        return value
    if common["name"] != "signin/tokenExchange":
        raise ControlError("sso applies only to the signin/tokenExchange invoke")
    if value is not None and not isinstance(value, dict):
        raise ControlError("value must be an object for signin/tokenExchange")
    agent = cloud.directory.agent.client_id
    client = OFFICE_WEB_CLIENT_ID if conversation.surface == "m365copilot" else TEAMS_DESKTOP_CLIENT_ID
    token = cloud.issuer.entra_token(audience=agent, client_id=client, user=user, scopes=["access_as_user"])
    return {"id": str(uuid.uuid4()), "connectionName": OAUTH_CONNECTION_NAME, **(value or {}), "token": token}


async def teams_send(request: web.Request) -> web.Response:
    cloud, log = request.app[CLOUD], request.app[LOG]
    body = await _json_object(request)
    user = _user(cloud, body)
    endpoint = _agent_endpoint(cloud, body)
    conversation = _teams_conversation(log, cloud, user, body)
    activity = build_teams_activity(cloud, user, conversation, body)
    log.conversations.setdefault(conversation.id, conversation).members[user.id] = user
    before = log.last
    status, _, text = await _exchange(cloud, endpoint, activity, _teams_headers(request, activity["serviceUrl"]))
    return web.json_response({
        "status": status,
        "body": _json_or_text(text),
        "activity": _without_token(activity),
        "conversation": conversation.id,
        "replies": log.after(conversation.id, before),
        "last": log.last,
    })


def _teams_headers(request: web.Request, service_url: str) -> dict[str, str]:
    """What Bot Service sends with a Teams activity: its channel token, vouching for the serviceUrl (held and reused
    until it nears expiry, as Bot Service does)."""
    cloud = request.app[CLOUD]
    app_id = cloud.directory.agent.client_id
    token = request.app[HELD].get(("channel", app_id, service_url),
                                  lambda: cloud.issuer.channel_token(app_id=app_id, service_url=service_url))
    return {"Authorization": f"Bearer {token}"}


def _without_token(activity: dict[str, Any]) -> dict[str, Any]:
    """The activity as echoed to the caller: never a token."""
    value = activity.get("value")
    if isinstance(value, dict) and "token" in value:
        return {**activity, "value": {**value, "token": "(redacted)"}}
    return activity


# --- Bot Connector (the agent replies here) ---------------------------------------------------------------------


def _connector_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def fault_reply(_: web.Request, fault: Fault) -> web.Response:
    """An injected fault in the Bot Connector's error shape."""
    assert fault.status is not None
    code = {401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}.get(fault.status, "ServiceError")
    response = _connector_error(fault.status, code, fault.message)
    response.headers.update(fault.headers)
    return response


def _authorize_agent(request: web.Request) -> web.Response | None:
    """Bot Service accepts replies only with a Bot Framework token issued to the bot itself."""
    cloud = request.app[CLOUD]
    try:
        claims = cloud.issuer.verify_bearer(request.headers.get("Authorization"), [BOTFRAMEWORK_RESOURCE])
    except TokenRejected:
        return web.json_response(DENIED, status=401)
    if claims.get("azp", claims.get("appid")) != cloud.directory.agent.client_id:
        return web.json_response(DENIED, status=401)
    return None


def _agents_conversation(request: web.Request) -> Conversation | web.Response:
    """The conversation a call of the agent's names, once the agent's token is checked; else the error to answer."""
    denied = _authorize_agent(request)
    if denied is not None:
        return denied
    conversation = request.app[LOG].conversations.get(request.match_info["cid"])
    if conversation is None or conversation.channel != "teams":
        return _connector_error(404, "ConversationNotFound", "Conversation not found.")
    return conversation


async def _connector_activity(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        activity = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _connector_error(400, "BadSyntax", "The request body is not valid JSON.")
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        return _connector_error(400, "BadArgument", "An activity with a type is required.")
    return activity


async def _record_from_agent(request: web.Request, op: str, activity_id: str | None = None) -> web.Response:
    conversation = _agents_conversation(request)
    if isinstance(conversation, web.Response):
        return conversation
    activity = await _connector_activity(request)
    if isinstance(activity, web.Response):
        return activity
    new_id = activity_id if op == "update" and activity_id else _activity_id()
    if op == "reply" and activity_id:
        activity = {"replyToId": activity_id, **activity}
    if op != "update" and stream_info(activity) is not None:
        return await _record_streaming(request, conversation, op, activity, new_id)
    activity = {**activity, "id": new_id}
    await request.app[LOG].record(conversation.id, op, activity)
    return web.json_response({"id": new_id})


async def _record_streaming(request: web.Request, conversation: Conversation, op: str, activity: dict[str, Any],
                            new_id: str) -> web.Response:
    """A streaming request, taken or refused as Teams does (`localcloud/streams.py`). Every message of a stream is
    the one message the chat shows, so each is recorded with the stream's id."""
    try:
        accepted = request.app[STREAMS].check(conversation.id, conversation.conversation_type, activity, new_id)
    except StreamRefused as refusal:
        return _connector_error(refusal.status, refusal.code, refusal.message)
    if accepted.dropped:
        return web.json_response({"error": {"code": "ContentStreamSequenceOrderPreConditionFailed",
                                            "message": OUT_OF_ORDER}}, status=202)
    await request.app[LOG].record(conversation.id, op, {**activity, "id": accepted.stream_id})
    return web.json_response({"id": accepted.stream_id} if accepted.status == 201 else {}, status=accepted.status)


async def reply_to_activity(request: web.Request) -> web.Response:
    return await _record_from_agent(request, "reply", request.match_info["aid"])


async def send_to_conversation(request: web.Request) -> web.Response:
    return await _record_from_agent(request, "send")


async def update_activity(request: web.Request) -> web.Response:
    return await _record_from_agent(request, "update", request.match_info["aid"])


async def delete_activity(request: web.Request) -> web.Response:
    conversation = _agents_conversation(request)
    if isinstance(conversation, web.Response):
        return conversation
    await request.app[LOG].record(conversation.id, "delete", {"type": "delete", "id": request.match_info["aid"]})
    return web.Response(status=200)


async def conversation_members(request: web.Request) -> web.Response:
    conversation = _agents_conversation(request)
    if isinstance(conversation, web.Response):
        return conversation
    members = [_teams_member(user, request.app[CLOUD].tenant_id) for user in conversation.members.values()]
    member_id = request.match_info.get("mid")
    if member_id is None:
        return web.json_response(members)
    for member in members:
        if member_id in (member["id"], member["aadObjectId"]):
            return web.json_response(member)
    return _connector_error(404, "MemberNotFound", "The member was not found in the conversation.")


async def create_conversation(request: web.Request) -> web.Response:
    """A proactive 1:1 chat: Teams answers with the user's existing personal conversation."""
    denied = _authorize_agent(request)
    if denied is not None:
        return denied
    cloud, log = request.app[CLOUD], request.app[LOG]
    try:
        parameters = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _connector_error(400, "BadSyntax", "The request body is not valid JSON.")
    members = parameters.get("members") if isinstance(parameters, dict) else None
    if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
        return _connector_error(400, "BadArgument", "Exactly one member is required for a 1:1 conversation.")
    wanted = members[0].get("id")
    user = next((u for u in cloud.directory.users.values() if wanted in (teams_user_id(u), u.id)), None)
    if user is None:
        return _connector_error(404, "MemberNotFound", "The member is not known to this tenant.")
    cid = _personal_conversation_id(user, cloud.directory.agent.client_id)
    conversation = log.conversations.setdefault(cid, Conversation(cid, "teams", "personal"))
    conversation.members[user.id] = user
    answer: dict[str, Any] = {"id": cid}
    if isinstance(parameters.get("activity"), dict):
        answer["activityId"] = _activity_id()
        await log.record(cid, "send", {**parameters["activity"], "id": answer["activityId"]})
    return web.json_response(answer, status=201)


# --- Copilot Studio connector -----------------------------------------------------------------------------------


async def copilot_callback(request: web.Request) -> web.Response:
    """Where `MCSConnectorClient` posts replies: the serviceUrl itself, raw activity, no Authorization."""
    log = request.app[LOG]
    conversation = log.conversations.get(request.match_info["cid"])
    if conversation is None or conversation.channel != "copilot":
        return _connector_error(404, "ConversationNotFound", "Conversation not found.")
    activity = await _connector_activity(request)
    if isinstance(activity, web.Response):
        return activity
    activity = {**activity, "id": activity.get("id") or str(uuid.uuid4())}
    await log.record(conversation.id, "send", activity)
    return web.json_response({"id": activity["id"]})


def _copilot_headers(request: web.Request, user: User, azp_mismatch: bool = False,
                     held_token: bool = False) -> dict[str, str]:
    """What Copilot Studio's connector sends: the user's token for the agent. Microsoft documents the connected
    agent's screens (https://learn.microsoft.com/microsoft-copilot-studio/add-agent-microsoft-365-agents-sdk-agent) but
    not the token; this is what the connection of docs/deploy.md step 8 produces (the agent's client id, scope
    `access_as_user`): a v2 token with `aud` and `azp` the agent's id, the user's `oid` and `scp access_as_user`."""
    cloud = request.app[CLOUD]
    agent = cloud.directory.agent
    azp = stable_id("app:copilot-studio") if azp_mismatch else agent.client_id

    def user_token() -> str:
        return cloud.issuer.entra_token(audience=agent.client_id, client_id=azp, user=user, scopes=["access_as_user"])

    # A new token for every request unless asked to present the one held for the user, as Copilot Studio does within
    # a session (`held_token`): then the agent's on-behalf-of exchange can come from its token cache.
    token = request.app[HELD].get(("copilot", user.id, azp), user_token) if held_token else user_token()
    return {"Authorization": f"Bearer {token}", "x-ms-agentsdk-caller": "Connector"}


async def copilot_send(request: web.Request) -> web.Response:
    cloud, log = request.app[CLOUD], request.app[LOG]
    body = await _json_object(request)
    user = _user(cloud, body)
    endpoint = _agent_endpoint(cloud, body)
    common = _common(body)
    delivery = DELIVERY_MODES[_choice(body, "delivery", DELIVERY_MODES, "expectReplies")]
    azp_mismatch = _opt(body, "azp_mismatch", bool, False)
    held_token = _opt(body, "held_token", bool, False)
    locale = _opt(body, "locale", str, "en-US")
    cid = _opt(body, "conversation", str) or str(uuid.uuid4())
    conversation = log.conversations.setdefault(cid, Conversation(cid, "copilot", "personal"))
    if conversation.channel != "copilot":
        raise ControlError(f"conversation {cid} belongs to the {conversation.channel} channel")
    conversation.members[user.id] = user
    agent = cloud.directory.agent
    activity: dict[str, Any] = {
        "type": common["type"],
        "id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "channelId": COPILOT_CHANNEL_ID,
        "serviceUrl": f"{cloud.endpoints.channels}/copilot/{cid}/",
        "from": {"id": user.id, "aadObjectId": user.id, "name": user.display_name, "role": "user"},
        "recipient": {"id": agent.client_id, "name": agent.display_name, "role": "connectoruser"},
        "conversation": {"id": cid, "tenantId": cloud.tenant_id},
        "locale": locale,
        **{key: common[key] for key in ("text", "name", "value") if common[key] is not None},
    }
    if delivery is not None:
        activity["deliveryMode"] = delivery
    before = log.last
    headers = _copilot_headers(request, user, azp_mismatch, held_token)
    status, content_type, text = await _exchange(cloud, endpoint, activity, headers)
    result: dict[str, Any] = {"status": status, "activity": activity, "conversation": cid}
    if content_type == "text/event-stream":
        events = parse_event_stream(text)
        result["replies"] = [data for event, data in events if event == "activity"]
        result["invokeResponse"] = next((data for event, data in events if event == "invokeResponse"), None)
        return web.json_response(result)
    result["body"] = answer = _json_or_text(text)
    if delivery == "expectReplies" and isinstance(answer, dict):
        result["replies"] = answer.get("activities") or []
    else:
        result["replies"] = [entry["activity"] for entry in log.after(cid, before)]
    return web.json_response(result)


# --- any body, with a genuine channel's credentials ---------------------------------------------------------------


RAW_CHANNELS = frozenset({"teams", "copilot"})


async def raw_send(request: web.Request) -> web.Response:
    """POST any body to the agent as a channel that relayed it would: for `teams` with Bot Service's channel token
    for the Teams serviceUrl, for `copilot` with `user`'s connector token. `body` is any JSON value; `raw` is text
    sent as it is (broken JSON, say), with `content_type`. A string `conversation.id` in the body is registered with
    the channel (`user` a member), so replies to it are accepted and recorded, as Bot Service accepts replies to a
    conversation it relayed. For fuzzing: the activities are not checked."""
    cloud, log = request.app[CLOUD], request.app[LOG]
    body = await _json_object(request)
    channel = _choice(body, "channel", RAW_CHANNELS, "teams")
    user = _user(cloud, body)
    endpoint = _agent_endpoint(cloud, body)
    content_type = _opt(body, "content_type", str, "application/json")
    if ("body" in body) == ("raw" in body):
        raise ControlError("give either body (any JSON value) or raw (text sent as it is)")
    data = _opt(body, "raw", str).encode() if "raw" in body else body["body"]
    conversation = body["body"].get("conversation") if isinstance(body.get("body"), dict) else None
    cid = conversation.get("id") if isinstance(conversation, dict) else None
    if isinstance(cid, str):
        registered = log.conversations.setdefault(cid, Conversation(cid, channel, "personal"))
        registered.members[user.id] = user
    if channel == "copilot":
        headers = _copilot_headers(request, user)
    else:
        headers = _teams_headers(request, teams_service_url(cloud))
    before = log.last
    status, answer_type, text = await _exchange(cloud, endpoint, data, headers, content_type)
    answer = parse_event_stream(text) if answer_type == "text/event-stream" else _json_or_text(text)
    return web.json_response({
        "status": status,
        "content_type": answer_type,
        "body": answer,
        "replies": log.after(cid, before) if isinstance(cid, str) else [],
        "last": log.last,
    })


def teams_service_url(cloud: Cloud) -> str:
    return f"{cloud.endpoints.channels}/teams/"


# --- reading what the agent sent --------------------------------------------------------------------------------


async def list_activities(request: web.Request) -> web.Response:
    log = request.app[LOG]
    cid = request.match_info["cid"]
    if cid not in log.conversations:
        raise ControlError(f"unknown conversation {cid!r}", status=404)
    try:
        after = int(request.query.get("after", "0"))
        wait = float(request.query.get("wait", "0"))
    except ValueError as error:
        raise ControlError("after must be an integer and wait a number of seconds") from error
    if after < 0 or not 0 <= wait <= MAX_WAIT_SECONDS:
        raise ControlError(f"after must be >= 0 and wait between 0 and {MAX_WAIT_SECONDS:g} seconds")
    entries = await log.wait(cid, after, wait) if wait else log.after(cid, after)
    return web.json_response({"activities": entries, "last": entries[-1]["seq"] if entries else after})


async def list_streams(request: web.Request) -> web.Response:
    """The conversation's streams as the channel saw them, with every streaming request it refused or dropped."""
    cid = request.match_info["cid"]
    if cid not in request.app[LOG].conversations:
        raise ControlError(f"unknown conversation {cid!r}", status=404)
    return web.json_response(request.app[STREAMS].report(cid))


async def stop_stream(request: web.Request) -> web.Response:
    """The user presses Stop on the conversation's open stream (`localcloud/streams.py`); 404 when none is open."""
    cid = request.match_info["cid"]
    if cid not in request.app[LOG].conversations:
        raise ControlError(f"unknown conversation {cid!r}", status=404)
    stream = request.app[STREAMS].stop(cid)
    if stream is None:
        raise ControlError(f"no stream is open in conversation {cid!r}", status=404)
    return web.json_response(stream.report())


async def endpoints(request: web.Request) -> web.Response:
    return web.json_response(describe(request.app[CLOUD]))


async def consent_required(request: web.Request) -> web.Response:
    """Make the token service answer SSO exchanges with "Consent Required" for one user, or with `user: null`
    everyone: `{"user": name|null, "enabled": bool}`; answers the switch's state."""
    cloud = request.app[CLOUD]
    body = await _json_object(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError('the body must be {"user": name|null, "enabled": bool}')
    user = None if body.get("user") is None else _user(cloud, body)
    return web.json_response(cloud.token_service.require_consent(user, enabled))


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"error": error.message}, status=error.status)


MAX_CONTROL_BODY = 8 * 1024 * 1024
"""Room for a raw body past the agent's own limit (aiohttp's 1 MiB), so the agent, not the control API, refuses it."""


def create_app(cloud: Cloud) -> web.Application:
    app = web.Application(middlewares=[control_errors], client_max_size=MAX_CONTROL_BODY)
    app[CLOUD] = cloud
    app[LOG] = ActivityLog()
    app[HELD] = HeldTokens()
    app[STREAMS] = Streams()
    conversation = "/teams/v3/conversations/{cid}"
    app.add_routes([
        web.post(f"{conversation}/activities/{{aid}}", reply_to_activity),
        web.post(f"{conversation}/activities", send_to_conversation),
        web.put(f"{conversation}/activities/{{aid}}", update_activity),
        web.delete(f"{conversation}/activities/{{aid}}", delete_activity),
        web.get(f"{conversation}/members", conversation_members),
        web.get(f"{conversation}/members/{{mid}}", conversation_members),
        web.post("/teams/v3/conversations", create_conversation),
        web.post("/copilot/{cid}/", copilot_callback),
        web.post("/copilot/{cid}", copilot_callback),
        web.post("/_localcloud/teams/activities", teams_send),
        web.post("/_localcloud/copilot/activities", copilot_send),
        web.post("/_localcloud/raw", raw_send),
        web.get("/_localcloud/conversations/{cid}/activities", list_activities),
        web.get("/_localcloud/conversations/{cid}/streams", list_streams),
        web.post("/_localcloud/conversations/{cid}/streams/stop", stop_stream),
        web.get("/_localcloud/endpoints", endpoints),
        web.put("/_localcloud/tokenservice/consent-required", consent_required),
        *cloud.faults.routes(),
        *cloud.traffic.routes(),
        *cloud.graph_requests.routes(),
    ])
    return app


# --- `python -m localcloud say` ---------------------------------------------------------------------------------


def add_say_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", choices=("teams", "m365copilot", "copilot"), default="teams",
                        help="teams, m365copilot (Microsoft 365 Copilot) or copilot (Copilot Studio's connector)")
    parser.add_argument("--user", required=True, help="a seeded user: short name, UPN or object id")
    parser.add_argument("--delivery", choices=tuple(DELIVERY_MODES), default="expectReplies",
                        help="Copilot Studio delivery mode (default expectReplies)")
    parser.add_argument("--env-file", dest="say_env_file", help="the env file a running cloud wrote")
    parser.add_argument("--cloud", help="the cloud's channels URL (LOCALCLOUD_URL)")
    parser.add_argument("--agent", dest="say_agent_endpoint", help="the agent's /api/messages URL, if not the cloud's")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to wait for late replies (default 3)")
    parser.add_argument("text")


def reply_lines(activity: dict[str, Any]) -> list[str]:
    """An activity as a person reads it: its text, Adaptive Card TextBlocks, or an OAuthCard's sign-in link."""
    lines = [activity["text"]] if activity.get("text") else []
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") or {}
        kind = attachment.get("contentType", "")
        if kind == "application/vnd.microsoft.card.adaptive":
            lines += _text_blocks(content)
        elif kind == "application/vnd.microsoft.card.oauth":
            links = [b.get("value") for b in content.get("buttons") or [] if b.get("type") == "signin"]
            lines += [f"[sign in] {content.get('text') or 'Sign in'}: {link}" for link in links]
        else:
            lines += [str(content[key]) for key in ("title", "subtitle", "text") if content.get(key)]
    return lines


def _text_blocks(node: Any) -> list[str]:
    if isinstance(node, list):
        return [line for item in node for line in _text_blocks(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "TextBlock":
        return [node["text"]] if node.get("text") else []
    if node.get("type") == "FactSet":
        return [f"{f.get('title')}: {f.get('value')}" for f in node.get("facts") or [] if isinstance(f, dict)]
    return _text_blocks([node[key] for key in ("body", "items", "columns") if key in node])


def _cloud_url(args: argparse.Namespace) -> str:
    """The channels URL from --cloud, or from the env file a running cloud wrote; ControlError says what is missing."""
    if args.cloud:
        return args.cloud
    if not args.say_env_file:
        raise ControlError("give --cloud URL or --env-file PATH of a running local cloud")
    if not Path(args.say_env_file).is_file():
        raise ControlError(f"{args.say_env_file} does not exist: is the local cloud running?")
    url = dotenv_values(args.say_env_file).get("LOCALCLOUD_URL")
    if not url:
        raise ControlError(f"{args.say_env_file} has no LOCALCLOUD_URL: is it the local cloud's env file?")
    return url


async def run_say(args: argparse.Namespace) -> int:
    from .client import LocalCloudClient, LocalCloudError

    try:
        base_url = _cloud_url(args)
    except ControlError as error:
        print(f"error: {error.message}")
        return 2
    target = {"agent_endpoint": args.say_agent_endpoint} if args.say_agent_endpoint else {}
    try:
        async with LocalCloudClient(base_url) as client:
            if args.channel == "copilot":
                result = await client.copilot(args.user, args.text, delivery=args.delivery, **target)
                replies = result.replies
                status = result.status
            else:
                surface = "m365copilot" if args.channel == "m365copilot" else "teams"
                sent = await client.teams(args.user, args.text, surface=surface, **target)
                status = sent.status
                late = await client.collect(sent.conversation, after=sent.last, wait=args.wait) if status < 400 else []
                replies = [entry.activity for entry in [*sent.replies, *late]]
    except LocalCloudError as error:
        print(f"error: {error}")
        return 2 if 400 <= error.status < 500 else 1
    except aiohttp.ClientError as error:
        print(f"error: the local cloud at {base_url} is not reachable: {error}")
        return 1
    for reply in replies:
        if reply.get("type") == "message":
            for line in reply_lines(reply):
                print(f"agent> {line}")
    if status >= 400:
        print(f"error: the agent answered HTTP {status}")
        return 1
    return 0
