"""The HTTP sessions of the SDK's Bot Service clients: the token service, and the channel that takes replies.

The SDK makes one aiohttp session per client and turn, with aiohttp's default 5-minute timeout, and lets a 429, a 5xx
or a reset escape as an aiohttp exception: the turn then failed with a traceback, the channel's 500 showed the user the
SDK's own error text, or the channel got a 500. The sessions built here carry the turn's deadline instead, and:
- the token service's faults become `ServiceBusy` / `ServiceUnavailable`, which the user is told about;
- a reply the channel refuses with 429, 412 or 5xx, or drops, is sent again with backoff (its `Retry-After` honoured)
  while the turn's reply time lasts. Teams asks bots to back off and retry 429s with jitter, and to retry 412, 502 and
  504 as well (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit); 500 and 503 are
  retried too, since nothing was delivered. Then `ReplyUndelivered`: there is nobody left to tell.
- a streaming request (`retrying(...)`, set by `skills.progress` around each one) is retried only as far as "Stream
  bot messages" (https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux) makes it safe, and never
  sooner than a second after the last attempt ("The throttling limit is 1 request per second"):
  - the first request opens the stream and Teams answers with its id. Sent again after a timeout, a dropped
    connection or a 5xx, any of which may come after Teams took it, it would open a second stream in a chat that
    allows one at a time; only a 429, which took nothing, is sent again (`STREAM_START`);
  - a later update carries the stream id and the next sequence number, and Teams drops a number it has seen
    (`ContentStreamSequenceOrderPreConditionFailed`), so it may be sent again as any reply (`STREAM_UPDATE`);
  - the final message carries the stream id; sent again after its first attempt landed, Teams answers 403 "already
    completed", which `skills.progress` takes for delivered (`STREAM_UPDATE` too).
- a call of the Bot Connector stays under the serviceUrl the channel's token vouched for (`auth.incoming`): the SDK puts
  the activity's conversation and activity ids into the path unquoted, so an id holding `..`, `/` or `?` could
  otherwise point the agent's authenticated call at another path of that host.

They are `ChannelHttp`'s, which lasts as long as the app: every session shares one connection pool, so a turn reuses
an open connection (and TLS session) instead of opening its own, and keeps no cookies, since one session serves every
user. The deadline is read per request from the turn that makes it (`turn.deadline`), never from the session.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import aiohttp
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, ClientSession
from yarl import URL

from turn import deadline
from turn.faults import TOKEN_SERVICE, ReplyUndelivered, ServiceUnavailable, fault_for, is_fault_status, retry_after
from turn.retry import Backoff, Decision, retried

CALL_TIMEOUT = 10.0
"""Seconds for one call outside a turn (inside one, the turn's deadline decides)."""
REPLY_ATTEMPTS = 4
REPLY_RETRYABLE = frozenset({412, 429, 500, 502, 503, 504})
CONNECTOR_QUERY = frozenset({"isTargetedActivity"})
"""The only query parameter the SDK's Bot Connector client sends."""
BACKOFF_MAX = 1.0
"""The longest backoff between two attempts at a reply (without `Retry-After`): a turn has seconds, not minutes."""
REPLY_BACKOFF = Backoff(REPLY_ATTEMPTS, wait_initial=0.2, wait_max=BACKOFF_MAX, wait_jitter=0.2)
RETIRED_SESSION_SECONDS = 120.0
"""A session no longer handed out is closed this long after, when no turn can still be using it (a turn is cut off
after at most a minute)."""


class ChannelHttp:
    """The process's sessions to Bot Service, on one connection pool; `aclose` on app cleanup closes them all."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._ssl = context
        self._pool: aiohttp.TCPConnector | None = None
        self._sessions: set[ClientSession] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def token_service_session(self, endpoint: str) -> ClientSession:
        """A `UserTokenClient`'s session: the turn's deadline, and faults the user is told about."""
        return self._session(_with_slash(endpoint), (_token_service_faults,))

    def connector_session(self, endpoint: str | None) -> ClientSession:
        """A connector client's session (Bot Connector, or Copilot Studio's callback with `endpoint` None): replies
        retried within the turn's deadline, then `ReplyUndelivered`; a Bot Connector's calls confined to its
        endpoint."""
        if endpoint is None:
            return self._session(None, (_retried_reply,))
        base = _with_slash(endpoint)
        return self._session(base, (_confined_to(URL(base)), _retried_reply))

    def _session(self, base_url: str | None, middlewares: tuple[aiohttp.ClientMiddlewareType, ...]) -> ClientSession:
        if self._pool is None or self._pool.closed:
            self._pool = aiohttp.TCPConnector(ssl=self._ssl)  # made inside the loop: aiohttp binds it there
        session = ClientSession(base_url=base_url, connector=self._pool, connector_owner=False,
                                cookie_jar=aiohttp.DummyCookieJar(), middlewares=middlewares)
        self._sessions.add(session)
        return session

    def retire(self, session: ClientSession) -> None:
        """Close `session` once no turn can still be using it."""

        def close() -> None:
            task = asyncio.ensure_future(self._close(session))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

        asyncio.get_running_loop().call_later(RETIRED_SESSION_SECONDS, close)

    async def _close(self, session: ClientSession) -> None:
        self._sessions.discard(session)
        await session.close()

    async def aclose(self) -> None:
        for session in list(self._sessions):
            await self._close(session)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _with_slash(endpoint: str) -> str:
    return endpoint if endpoint.endswith("/") else f"{endpoint}/"


async def _token_service_faults(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    try:
        async with asyncio.timeout(deadline.work_left(CALL_TIMEOUT)):
            response = await handler(request)
    except (TimeoutError, aiohttp.ClientConnectionError) as error:
        raise ServiceUnavailable(TOKEN_SERVICE) from error
    if is_fault_status(response.status):
        response.release()
        raise fault_for(TOKEN_SERVICE, response.status, response.headers)
    return response


def _confined_to(base: URL) -> aiohttp.ClientMiddlewareType:
    """Refuses any call outside `base`'s Bot Connector API (`{base}v3/...`, no query but the SDK's own)."""
    api = f"{base.path}v3/"

    async def confine(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        url = request.url
        if url.origin() != base.origin() or not url.path.startswith(api) or not set(url.query) <= CONNECTOR_QUERY:
            raise ReplyUndelivered(f"{request.method} to {url.path!r} is outside the vouched-for serviceUrl")
        return await handler(request)

    return confine


@dataclass(frozen=True)
class Retries:
    """How a reply is sent again: after which refusals, whether after it was dropped (timed out, connection lost: it
    may have been taken), and the shortest wait between two attempts."""

    statuses: frozenset[int]
    """Refusals (of `REPLY_RETRYABLE`) sent again."""
    dropped: bool
    min_wait: float = 0.0


REPLY = Retries(REPLY_RETRYABLE, dropped=True)
STREAM_MIN_WAIT = 1.0
"""Seconds: Teams takes one streaming request a second."""
STREAM_START = Retries(frozenset({429}), dropped=False, min_wait=STREAM_MIN_WAIT)
STREAM_UPDATE = Retries(REPLY_RETRYABLE, dropped=True, min_wait=STREAM_MIN_WAIT)
_retries: ContextVar[Retries] = ContextVar("reply_retries", default=REPLY)


@contextmanager
def retrying(retries: Retries) -> Iterator[None]:
    """The replies sent inside (by this task) are retried as `retries` says."""
    token = _retries.set(retries)
    try:
        yield
    finally:
        _retries.reset(token)


class _Refused(Exception):
    def __init__(self, status: int, wait: int | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.wait = wait


def _retry_reply(error: BaseException) -> Decision:
    """Whether a reply goes again, and when: as the reply's `Retries` allow (`retried` keeps it within the turn)."""
    retries = _retries.get()
    if isinstance(error, _Refused):
        if error.status not in retries.statuses:
            return False
        return max(float(error.wait or 0), retries.min_wait) or True
    if isinstance(error, aiohttp.ClientConnectionError) and retries.dropped:
        return retries.min_wait or True
    return False


async def _retried_reply(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    """The reply, retried as Teams asks while the turn's reply time lasts."""
    try:
        return await retried(lambda: _reply_attempt(request, handler), when=_retry_reply,
                             left=lambda: deadline.reply_left(CALL_TIMEOUT), backoff=REPLY_BACKOFF)
    except (_Refused, TimeoutError, aiohttp.ClientConnectionError) as error:
        raise ReplyUndelivered(f"{request.method} {request.url.host}: {type(error).__name__} {error}") from None


async def _reply_attempt(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    async with asyncio.timeout(deadline.reply_left(CALL_TIMEOUT)):
        response = await handler(request)
    if response.status in REPLY_RETRYABLE:
        response.release()
        raise _Refused(response.status, retry_after(response.headers))
    return response
