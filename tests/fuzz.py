"""Generated activities for the fuzzer (`tests/test_fuzz.py`; `make soak` runs more of them).

Every activity type of the Activity protocol, every invoke name Teams and the Bot Framework SDKs define and made-up
ones, commands with odd arguments, card actions, `signin/verifyState` and `signin/tokenExchange` with garbage values
(after a sign-in started and with none), Teams and Copilot Studio connector shapes; then fields deleted, mistyped,
huge or deeply nested, and bodies that are no activity at all. The same seed and count give the same cases anywhere.

Invoke names: those the SDK's `ActivityHandler` routes, and Teams':
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/bot-invoke-activity
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

SIGN_IN_INVOKES = ("signin/verifyState", "signin/tokenExchange", "signin/failure")
INVOKE_NAMES = SIGN_IN_INVOKES + (
    "adaptiveCard/action", "task/fetch", "task/submit", "tab/fetch", "tab/submit", "config/fetch", "config/submit",
    "composeExtension/query", "composeExtension/queryLink", "composeExtension/anonymousQueryLink",
    "composeExtension/selectItem", "composeExtension/submitAction", "composeExtension/fetchTask",
    "composeExtension/querySettingUrl", "composeExtension/setting", "composeExtension/onCardButtonClicked",
    "fileConsent/invoke", "actionableMessage/executeAction", "message/submitAction", "message/fetchTask",
    "application/search", "handoff/action", "healthCheck",
)
ACTIVITY_TYPES = ("message", "contactRelationUpdate", "conversationUpdate", "typing", "endOfConversation", "event",
                  "invoke", "deleteUserData", "messageUpdate", "messageDelete", "installationUpdate", "messageReaction",
                  "suggestion", "trace", "handoff", "command", "commandResult")
EVENT_NAMES = ("GetProfile", "GetCalendar", "GetFiles", "tokens/response", "application/vnd.microsoft.meetingStart",
               "application/vnd.microsoft.readReceipt", "Media.Start", "")
COMMANDS = ("/help", "help", "HELP", "/me", "me", "/calendar", "calendar tomorrow", "/calendar week", "/calendar next",
            "/calendar 2099-13-45", "/files", "/files budget", "/files ' or 1 eq 1", "/files %00%2F..%2F",
            "/logout", "cancel", "stop", "/cancel", "hello", "123456", "000000", "12345", "1234567")
CONNECTION = "graph"
HUGE = 300_000
"""Characters of a huge value: far past any Teams message, below the agent's 1 MiB body limit."""
TOO_LARGE = 1_200_000
"""Characters of a body past the agent's 1 MiB limit."""
DEEP = 400
"""Nesting of a deep value the JSON parser still reads."""
TOO_DEEP = 5_000
"""Nesting past Python's recursion limit."""


@dataclass(frozen=True)
class FuzzUser:
    name: str
    """A seeded user's short name: whose credentials a Copilot Studio body carries."""
    teams_id: str
    object_id: str
    display_name: str


@dataclass(frozen=True)
class Target:
    """What a body needs to reach the agent through the local cloud's channels."""

    channels_url: str
    agent_id: str
    tenant_id: str
    users: tuple[FuzzUser, ...]
    signed_in: str
    """The user signed in on Teams before the run: their commands reach Microsoft Graph."""


@dataclass(frozen=True)
class Case:
    number: int
    kind: str
    """What was generated, e.g. `teams invoke task/fetch` or `teams message, from.id deleted`."""
    channel: Literal["teams", "copilot"]
    """Whose credentials the local cloud sends it with."""
    user: str
    """The seeded user the body is about (a Copilot Studio body carries their token)."""
    body: Any = None
    raw: str | None = None
    content_type: str = "application/json"
    mutated: bool = False
    """A field was deleted, mistyped, made huge or deeply nested, or the body is no activity."""

    def request(self) -> dict[str, Any]:
        """Keyword arguments of `LocalCloudClient.raw`."""
        sent: dict[str, Any] = {"raw": self.raw} if self.raw is not None else {"body": self.body}
        return {**sent, "content_type": self.content_type}


class Generator:
    """Cases from `seed`; each body is a genuine-looking Teams or Copilot Studio activity, then perhaps mutated."""

    def __init__(self, target: Target, seed: int) -> None:
        self.target = target
        self.random = random.Random(seed)

    def cases(self, count: int) -> Iterator[Case]:
        for number in range(count):
            yield self.case(number)

    def case(self, number: int) -> Case:
        if number < len(_TOUR):
            return self._tour(number)
        pick = self.random.random()
        if pick < 0.04:
            return self._not_an_activity(number)
        channel: Literal["teams", "copilot"] = "copilot" if pick < 0.16 else "teams"
        user = self._user(channel)
        kind, body = self._activity(channel, user)
        name = body.get("name")
        mutated = name is not None and not (isinstance(name, str) and name.strip())  # the protocol wants a name
        if self.random.random() < 0.35:
            label, body = self._mutate(body)
            kind, mutated = f"{kind}, {label}", True
        return Case(number, f"{channel} {kind}", channel, user.name, body=body, mutated=mutated)

    # --- genuine activities -----------------------------------------------------------------------------------------

    def _tour(self, number: int) -> Case:
        """The first cases: each activity type and invoke name once, unchanged, whatever the seed."""
        kind, name = _TOUR[number]
        user = self._user("teams")
        body = self._teams(user) | {"type": kind}
        if name is not None:
            body |= {"name": name, "value": self._invoke_value(name)}
        label = f"invoke {name!r}" if name is not None else kind
        return Case(number, f"teams {label} (tour)", "teams", user.name, body=body)


    def _user(self, channel: str) -> FuzzUser:
        signed_in = [user for user in self.target.users if user.name == self.target.signed_in]
        others = [user for user in self.target.users if user.name != self.target.signed_in]
        if channel == "teams" and self.random.random() < 0.15:
            return signed_in[0]
        return self.random.choice(others)

    def _activity(self, channel: str, user: FuzzUser) -> tuple[str, dict[str, Any]]:
        body = self._teams(user) if channel == "teams" else self._copilot(user)
        roll = self.random.random()
        if roll < 0.35:
            text = self._command(user)
            body |= {"type": "message", "text": text}
            return f"message {_short(text)}", body
        if roll < 0.45:
            body |= {"type": "message", "value": self._card_value()}
            if self.random.random() < 0.5:
                body.pop("text", None)
            return "card action", body
        if roll < 0.75:
            name = self._invoke_name()
            body |= {"type": "invoke", "name": name, "value": self._invoke_value(name)}
            return f"invoke {_short(name)}", body
        if roll < 0.85:
            name = self.random.choice(EVENT_NAMES)
            body |= {"type": "event", "name": name, "value": self._junk(3)}
            return f"event {_short(name)}", body
        kind = self.random.choice(ACTIVITY_TYPES)
        body |= {"type": kind}
        if kind == "conversationUpdate":
            body["membersAdded"] = self.random.choice([[body["recipient"]], [body["from"]], [body["recipient"],
                                                                                              body["from"]], []])
        if kind == "messageReaction":
            body["reactionsAdded"] = [{"type": self.random.choice(["like", "heart", "laugh", "surprised"])}]
        if kind == "installationUpdate":
            body["action"] = self.random.choice(["add", "remove", "add-upgrade", "zzz"])
        if kind == "invoke":
            body["name"] = self._text(40)
            return "invoke with a made-up name", body
        return kind, body

    def _teams(self, user: FuzzUser) -> dict[str, Any]:
        target = self.target
        return {
            "type": "message", "id": str(self.random.randrange(10**15, 10**16)),
            "timestamp": "2026-05-04T10:00:00.000Z", "localTimestamp": "2026-05-04T03:00:00.000-07:00",
            "localTimezone": "America/Los_Angeles", "serviceUrl": f"{target.channels_url}/teams/",
            "channelId": "msteams",
            "from": {"id": user.teams_id, "aadObjectId": user.object_id, "name": user.display_name},
            "recipient": {"id": f"28:{target.agent_id}", "name": "Graph Productivity Agent"},
            "conversation": {"id": f"a:fuzz-{user.name}", "conversationType": "personal",
                             "tenantId": target.tenant_id},
            "channelData": {"tenant": {"id": target.tenant_id}},
            "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "America/Los_Angeles"}],
            "locale": "en-US", "textFormat": "plain",
        }

    def _copilot(self, user: FuzzUser) -> dict[str, Any]:
        conversation = f"fuzz-copilot-{user.name}"
        body: dict[str, Any] = {
            "type": "message", "id": f"{self.random.getrandbits(64):016x}", "timestamp": "2026-05-04T10:00:00Z",
            "channelId": "pva-studio", "serviceUrl": f"{self.target.channels_url}/copilot/{conversation}/",
            "from": {"id": user.object_id, "aadObjectId": user.object_id, "role": "user"},
            "recipient": {"id": self.target.agent_id, "role": "connectoruser"},
            "conversation": {"id": conversation, "tenantId": self.target.tenant_id}, "locale": "en-US",
        }
        delivery = self.random.choice(["expectReplies", "expectReplies", "stream", None])
        if delivery:
            body["deliveryMode"] = delivery
        return body

    def _command(self, user: FuzzUser) -> str:
        roll = self.random.random()
        if roll < 0.6:
            text = self.random.choice(COMMANDS)
            if user.name == self.target.signed_in and text in ("/logout", "cancel", "stop", "/cancel"):
                text = "/help"  # the signed-in user stays signed in, so commands keep reaching Graph
        elif roll < 0.75:
            text = f"{self.random.choice(['/calendar', '/files', 'help', '/me'])} {self._text(60)}"
        elif roll < 0.8:
            text = f"<at>Graph Productivity Agent</at> {self.random.choice(COMMANDS[:8])}"
        elif roll < 0.85:
            text = "x" * self.random.choice([1000, 28_000, HUGE])
        else:
            text = self._text(200)
        return text

    def _card_value(self) -> Any:
        return self.random.choice([
            {"command": self.random.choice(["calendar", "files", "me", "help", "logout"]),
             "nextLink": self.random.choice(["https://graph.microsoft.com/v1.0/me/events?$skiptoken=x", "javascript:x",
                                             "", self._text(50)])},
            {"command": self._junk(1)}, {"msteams": {"type": "imBack", "value": "/me"}}, self._junk(2),
        ])

    def _invoke_name(self) -> str:
        if self.random.random() < 0.6:
            return self.random.choice(SIGN_IN_INVOKES)
        if self.random.random() < 0.8:
            return self.random.choice(INVOKE_NAMES)
        return self.random.choice(["", "SIGNIN/VERIFYSTATE", "signin/verifyState ", self._text(30), "x" * 10_000])

    def _invoke_value(self, name: str) -> Any:
        roll = self.random.random()
        if name == "signin/verifyState" and roll < 0.6:
            return {"state": self.random.choice([f"{self.random.randrange(10**6):06d}", "", self._text(20), "1" * 300,
                                                 self._junk(1)])}
        if name == "signin/tokenExchange" and roll < 0.7:
            value: dict[str, Any] = {"id": self.random.choice([self._text(12), "", 5, None]),
                                     "connectionName": self.random.choice([CONNECTION, CONNECTION, "Other", ""]),
                                     "token": self.random.choice(["eyJhbGciOiJub25lIn0.e30.", "garbage", "",
                                                                  self._text(100), None])}
            return {key: item for key, item in value.items() if item is not None or self.random.random() < 0.3}
        if name == "signin/failure" and roll < 0.6:
            return {"code": self.random.choice(["installedappnotfound", "resourcematchfailed", self._text(10)]),
                    "message": self._text(40)}
        if name == "adaptiveCard/action" and roll < 0.6:
            return {"action": {"type": "Action.Execute", "verb": self._text(10), "data": self._junk(2)}}
        return self._junk(3)

    # --- mutations --------------------------------------------------------------------------------------------------

    def _mutate(self, body: dict[str, Any]) -> tuple[str, Any]:
        path = self.random.choice(_PATHS)
        roll = self.random.random()
        if roll < 0.3:
            return f"{path} deleted", _without(body, path)
        if roll < 0.7 or path in _CHANNEL_ASSIGNED:
            value = self._junk(1)
            while path in _CHANNEL_ASSIGNED and isinstance(value, str):
                value = self._junk(1)
            return f"{path} a {type(value).__name__}", _with(body, path, value)
        if roll < 0.85:
            return f"{path} huge", _with(body, path, "é" * HUGE if self.random.random() < 0.5 else [0] * (HUGE // 4))
        depth = self.random.randrange(DEEP // 4, DEEP)
        return f"{path} nested {depth} deep", _with(body, path, _nested(depth, self.random.random() < 0.5))

    def _not_an_activity(self, number: int) -> Case:
        user = self.random.choice(self.target.users)
        raw, label, content_type = self.random.choice([
            ("", "an empty body", "application/json"),
            ("{", "broken JSON", "application/json"),
            ('{"type": "message", "text": "hi"', "truncated JSON", "application/json"),
            ("null", "JSON null", "application/json"),
            ("[]", "a JSON array", "application/json"),
            ('"message"', "a JSON string", "application/json"),
            ("12", "a JSON number", "application/json"),
            ("NaN", "NaN", "application/json"),
            ("\ufeff{}", "a byte order mark", "application/json"),
            ("[" * TOO_DEEP + "]" * TOO_DEEP, "arrays nested past the recursion limit", "application/json"),
            ('{"a":' * TOO_DEEP + "1" + "}" * TOO_DEEP, "objects nested past the recursion limit",
             "application/json"),
            (json.dumps({"type": "message", "text": "x" * TOO_LARGE}), "a body past 1 MiB", "application/json"),
            ('{"type": "message"}', "a message with no conversation", "text/plain"),
            ("<activity type='message'/>", "XML", "application/xml"),
            ('{"type": "message", "type": "invoke"}', "duplicate keys", "application/json"),
        ])
        return Case(number, f"teams not an activity: {label}", "teams", user.name, raw=raw,
                    content_type=content_type, mutated=True)

    # --- values -----------------------------------------------------------------------------------------------------

    def _text(self, length: int) -> str:
        alphabet = string.printable + "éßЖ中文😀\u202e\u200b\u0000\ufffd"
        return "".join(self.random.choice(alphabet) for _ in range(self.random.randrange(length + 1)))

    def _junk(self, depth: int) -> Any:
        roll = self.random.random()
        if depth <= 0 or roll < 0.5:
            return self.random.choice([None, True, False, 0, -1, 2**63, 1e308, "", self._text(20), "🙃" * 3])
        if roll < 0.75:
            return [self._junk(depth - 1) for _ in range(self.random.randrange(4))]
        return {self._text(8): self._junk(depth - 1) for _ in range(self.random.randrange(4))}


_PATHS = ("type", "id", "timestamp", "localTimestamp", "localTimezone", "serviceUrl", "channelId", "from", "from.id",
          "from.name", "from.aadObjectId", "from.role", "recipient", "recipient.id", "recipient.role", "conversation",
          "conversation.id", "conversation.conversationType", "conversation.tenantId", "conversation.isGroup",
          "channelData", "channelData.tenant", "entities", "text", "textFormat", "locale", "value", "name",
          "attachments", "deliveryMode", "replyToId", "membersAdded", "callerId", "relatesTo", "unknownField")
"""Where a mutation lands."""
_CHANNEL_ASSIGNED = frozenset({"id", "conversation.id"})
"""Ids the channel assigns and resolves replies by: mistyped or missing, never another string, since a channel signs
only activities of conversations it holds (and replies to one it does not hold fail at the channel)."""
_TOUR: tuple[tuple[str, str | None], ...] = (*((kind, None) for kind in ACTIVITY_TYPES if kind != "invoke"),
                                            *(("invoke", name) for name in INVOKE_NAMES))


def _short(text: str) -> str:
    """A label for a generated text: commands as they are, anything else by its length."""
    return repr(text) if len(text) <= 30 and text.isprintable() else f"({len(text)} characters)"


def _without(body: dict[str, Any], path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)
    return copy


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value
    return copy


def _nested(depth: int, as_lists: bool) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value] if as_lists else {"a": value}
    return value
