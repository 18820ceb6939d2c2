"""An async client of the local cloud's control API, for tests, benchmarks and the `say` command.

    async with LocalCloudClient(settings["LOCALCLOUD_URL"]) as cloud:
        sent = await cloud.teams("adele", "hello")
        reply = await cloud.wait_for_reply(sent.conversation, lambda r: r.type == "message", timeout=5)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import aiohttp

Delivery = Literal["normal", "expectReplies", "stream"]


class LocalCloudError(Exception):
    """The control API refused a request; `status` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Recorded:
    """An activity the agent sent to the channel (`op`: reply, send, update or delete)."""

    seq: int
    conversation: str
    op: str
    activity: dict[str, Any]

    @property
    def type(self) -> str:
        return self.activity.get("type", "")

    @property
    def text(self) -> str | None:
        return self.activity.get("text")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.activity.get("attachments") or []

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recorded:
        return cls(data["seq"], data["conversation"], data["op"], data["activity"])


@dataclass(frozen=True)
class TeamsResult:
    status: int
    """The agent's HTTP status (202 for a message, the invoke response's status for an invoke)."""
    body: Any
    """The agent's answer body, e.g. an invoke response."""
    activity: dict[str, Any]
    conversation: str
    replies: list[Recorded]
    """What the agent sent while it handled the activity."""
    last: int
    """Sequence number to long-poll after for later replies."""


@dataclass(frozen=True)
class CopilotResult:
    status: int
    replies: list[dict[str, Any]]
    activity: dict[str, Any]
    conversation: str
    body: Any = None
    invoke_response: dict[str, Any] | None = None


@dataclass(frozen=True)
class RawResult:
    status: int
    content_type: str
    body: Any
    """The agent's answer: JSON, text, or for `text/event-stream` a list of [event, data] pairs."""
    replies: list[Recorded]
    """What the agent sent to the body's conversation while it handled it."""
    last: int


class LocalCloudClient:
    """Talks to `{LOCALCLOUD_URL}/_localcloud/…`; one aiohttp session for its lifetime."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> LocalCloudClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self._session

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        query = {key: str(value) for key, value in params.items()}
        async with self.session.request(method, url, json=body, params=query) as response:
            data = await response.json(content_type=None) if response.status != 204 else None
            if response.status >= 400:
                message = data.get("error", data) if isinstance(data, dict) else data
                raise LocalCloudError(response.status, str(message))
            return data

    async def teams(self, user: str, text: str | None = None, **kw: Any) -> TeamsResult:
        """Send a Teams activity (a message unless `type=` says otherwise); see the control API for `kw`."""
        body = {"user": user, "text": text, **kw}
        data = await self._call("POST", f"{self.base_url}/_localcloud/teams/activities", body)
        return TeamsResult(
            status=data["status"],
            body=data["body"],
            activity=data["activity"],
            conversation=data["conversation"],
            replies=[Recorded.from_json(entry) for entry in data["replies"]],
            last=data["last"],
        )

    async def teams_invoke(self, user: str, name: str, value: Any = None, **kw: Any) -> TeamsResult:
        return await self.teams(user, type="invoke", name=name, value=value, **kw)

    async def teams_verify_state(self, user: str, code: str, **kw: Any) -> TeamsResult:
        """What Teams sends when the user finishes a sign-in in its own popup."""
        return await self.teams_invoke(user, "signin/verifyState", {"state": code}, **kw)

    async def teams_sso(self, user: str, **kw: Any) -> TeamsResult:
        """A `signin/tokenExchange` with an SSO token the cloud mints for the user, as the Teams client does."""
        return await self.teams_invoke(user, "signin/tokenExchange", kw.pop("value", None), sso=True, **kw)

    async def teams_install(self, user: str, **kw: Any) -> TeamsResult:
        return await self.teams(user, type="conversationUpdate", **kw)

    async def m365_copilot(self, user: str, text: str | None = None, **kw: Any) -> TeamsResult:
        """Send as Microsoft 365 Copilot does: through the Teams channel, marked with the `COPILOT` product, in the
        user's own Copilot chat with the agent (`teams_sso(..., surface="m365copilot")` signs in there)."""
        return await self.teams(user, text, surface="m365copilot", **kw)

    async def stop_stream(self, conversation: str) -> dict[str, Any]:
        """The user presses Stop on the chat's open stream; the stream as the channel now sees it."""
        return await self._call("POST", f"{self.base_url}/_localcloud/conversations/{conversation}/streams/stop")

    async def streams(self, conversation: str) -> dict[str, Any]:
        """The conversation's streams as the Teams channel saw them: `streams`, and what it `refused` or `dropped`."""
        return await self._call("GET", f"{self.base_url}/_localcloud/conversations/{conversation}/streams")

    async def copilot(self, user: str, text: str | None = None, delivery: Delivery = "expectReplies",
                      **kw: Any) -> CopilotResult:
        body = {"user": user, "text": text, "delivery": delivery, **kw}
        data = await self._call("POST", f"{self.base_url}/_localcloud/copilot/activities", body)
        return CopilotResult(
            status=data["status"],
            replies=data["replies"],
            activity=data["activity"],
            conversation=data["conversation"],
            body=data.get("body"),
            invoke_response=data.get("invokeResponse"),
        )

    async def raw(self, channel: Literal["teams", "copilot"], user: str, body: Any = None, *, raw: str | None = None,
                  content_type: str = "application/json", **kw: Any) -> RawResult:
        """POST `body` (any JSON value), or the text `raw`, to the agent with the channel's genuine credentials."""
        request = {"channel": channel, "user": user, "content_type": content_type, **kw,
                   **({"raw": raw} if raw is not None else {"body": body})}
        data = await self._call("POST", f"{self.base_url}/_localcloud/raw", request)
        return RawResult(status=data["status"], content_type=data["content_type"], body=data["body"],
                         replies=[Recorded.from_json(entry) for entry in data["replies"]], last=data["last"])

    async def activities(self, conversation: str, after: int = 0, wait: float = 0) -> tuple[list[Recorded], int]:
        """What the agent sent to a conversation after `after`; long-polls up to `wait` seconds for the first."""
        url = f"{self.base_url}/_localcloud/conversations/{conversation}/activities"
        data = await self._call("GET", url, after=after, wait=wait)
        return [Recorded.from_json(entry) for entry in data["activities"]], data["last"]

    async def collect(self, conversation: str, after: int = 0, wait: float = 3, settle: float = 0.5) -> list[Recorded]:
        """Everything sent after `after`: wait up to `wait` for the first, then until `settle` passes quietly."""
        found, last = await self.activities(conversation, after, wait)
        while found:
            more, last = await self.activities(conversation, last, settle)
            if not more:
                break
            found += more
        return found

    async def wait_for_reply(
        self,
        conversation: str,
        predicate: Callable[[Recorded], bool],
        timeout: float = 10,  # noqa: ASYNC109 - the deadline is spread over several long polls
        after: int = 0,
    ) -> Recorded:
        """The first activity after `after` that matches; `TimeoutError` if none comes in `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            found, after = await self.activities(conversation, after, min(remaining, 60))
            for entry in found:
                if predicate(entry):
                    return entry
        raise TimeoutError(f"no matching reply in conversation {conversation} within {timeout:g} s")

    async def add_fault(self, service: str, path: str, status: int | None = None, *, retry_after: int | None = None,
                        latency_ms: int = 0, count: int | None = None, method: str | None = None,
                        reset: bool = False, lose_answer: bool = False,
                        stream_type: str | None = None) -> dict[str, Any]:
        """Make a service answer `path` with an error, late, or by resetting the connection before or after serving
        the request (see localcloud.faults)."""
        body = {"service": service, "path": path, "status": status, "retry_after": retry_after,
                "latency_ms": latency_ms, "count": count, "method": method, "reset": reset,
                "lose_answer": lose_answer, "stream_type": stream_type}
        return await self._call("POST", f"{self.base_url}/_localcloud/faults", body)

    async def clear_faults(self) -> None:
        await self._call("DELETE", f"{self.base_url}/_localcloud/faults")

    async def ca_file(self) -> str:
        """The CA the cloud's https endpoints (the sign-in page among them) are trusted by."""
        return (await self._call("GET", f"{self.base_url}/_localcloud/endpoints"))["caFile"]

    async def graph_requests(self, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The requests the local Graph answered after entry `after`, and the last entry's number."""
        data = await self._call("GET", f"{self.base_url}/_localcloud/graph/requests", after=after)
        return data["requests"], data["last"]

    async def consent_required(self, user: str | None, enabled: bool) -> None:
        """Make the token service answer SSO exchanges for `user` (None: everyone) as if consent were missing."""
        await self._call("PUT", f"{self.base_url}/_localcloud/tokenservice/consent-required",
                         {"user": user, "enabled": enabled})

    async def traffic(self) -> list[dict[str, Any]]:
        """Every request the cloud's services answered so far: `service`, `method`, `path`, `count`."""
        return (await self.traffic_and_grants())["requests"]

    async def traffic_and_grants(self) -> dict[str, Any]:
        """`requests` as `traffic()` has them, and `entra_grants`: Entra token requests by grant type and grantee."""
        return await self._call("GET", f"{self.base_url}/_localcloud/traffic")
