"""One HTTP client per process, a cheap msgraph-sdk client per user, and one deadline per command.

Requests are built with msgraph-sdk's request builders and sent through its adapter and middleware, but read as
raw bytes and decoded by us (`docs/sdk-seams.md`: its typed models cost milliseconds per object on the event loop).
Every failure leaves this module as one of the domain errors of `graph.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware import (
    BaseMiddleware,
    ParametersNameDecodingHandler,
    RedirectHandler,
    UrlReplaceHandler,
    UserAgentHandler,
)
from kiota_http.middleware.options import UrlReplaceHandlerOption
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as graph_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory
from msgraph_core.middleware import GraphTelemetryHandler
from msgraph_core.middleware.options import GraphTelemetryHandlerOption
from yarl import URL

from auth.cloud import Cloud
from auth.unverified import unverified_claims
from graph.errors import (
    GraphBusy,
    GraphError,
    GraphRefused,
    GraphUnavailable,
    MailboxUnavailable,
    MissingPermission,
    SignInRequired,
)
from graph.hints import KnownHints
from graph.models import SignedInUser
from graph.timezones import Zone
from turn import deadline as turn_deadline
from turn.faults import is_busy, retry_after
from turn.retry import Backoff, Decision, retried

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 8.0
"""Seconds for a whole command, Graph retries included: Bot Service gives a turn 10-15 s."""
WARM_UP_SECONDS = 5.0
"""At most this long for the start-up warm-up (imports, TLS handshake); past it the agent serves anyway."""
MAX_ATTEMPTS = 3
RETRYABLE = {429, 503, 504}
BACKOFF = Backoff(MAX_ATTEMPTS, wait_initial=0.5, wait_max=1.0)
"""Without `Retry-After`, 0.5 s before the second attempt and 1 s before the third."""
_ERROR_MAP: dict[str, Any] = {"XXX": ODataError}


def graph_middleware() -> list[BaseMiddleware]:
    """msgraph-sdk's default pipeline (`GraphClientFactory.create_with_default_middleware`) less the handlers the agent
    never uses: the retry handler (`GraphSession.send` retries itself, so a `Retry-After` longer than the command's
    deadline is never slept on, where the handler would honour any below 180 s) and the header and body inspection
    handlers (they act only for a request that asks them to). Each handler costs every request its own step and span.
    """
    return [RedirectHandler(), ParametersNameDecodingHandler(),
            UrlReplaceHandler(options=graph_options[UrlReplaceHandlerOption.get_key()]), UserAgentHandler(),
            GraphTelemetryHandler(options=graph_options[GraphTelemetryHandlerOption.get_key()])]


_NO_COOKIES = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
"""The client serves every user: a cookie one answer set must never go with another user's request."""


class SharedHttp:
    """The process's one httpx client with Graph's middleware, built on first use and closed on app cleanup."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud
        self._client: httpx.AsyncClient | None = None
        self._transport: AiohttpTransport | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._transport = AiohttpTransport(self._cloud.ssl_context())
            plain = httpx.AsyncClient(transport=self._transport, trust_env=False, cookies=_NO_COOKIES,
                                      timeout=httpx.Timeout(DEFAULT_DEADLINE))
            self._client = GraphClientFactory.create_with_custom_middleware(graph_middleware(), client=plain)
        return self._client

    async def aclose(self) -> None:
        """Closes the pool too: the middleware's transport that wraps it does not pass `aclose` on."""
        if self._client is not None and self._transport is not None:
            await self._client.aclose()
            await self._transport.aclose()
            self._client = self._transport = None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """The bottom of the httpx client, under msgraph-sdk's middleware: one aiohttp connection pool.

    httpx's own pool (httpcore on anyio) costs several times aiohttp's per request and scans every pooled connection
    for every request, so concurrent commands slowed each other down. Bodies are read whole (Graph answers JSON
    pages and small photos); redirects, retries and decompression stay with the middleware and httpx. aiohttp seldom
    suspends when data is ready, so two explicit yields keep a calendar page from holding the loop in one piece.
    """

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        """Created on first use: aiohttp binds its session to the running loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl), auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        await asyncio.sleep(0)  # a turn for other conversations between building this request and sending it
        try:
            async with self._pool().request(
                request.method, URL(str(request.url), encoded=True), headers=request.headers.multi_items(),
                data=await request.aread() or None, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(sock_connect=timeout.get("connect"), sock_read=timeout.get("read")),
            ) as response:
                body = await response.read()
            await asyncio.sleep(0)  # and between reading the answer and the middleware's and our decoding of it
        except aiohttp.ConnectionTimeoutError as error:
            raise httpx.ConnectTimeout(str(error), request=request) from error
        except aiohttp.ServerTimeoutError as error:
            raise httpx.ReadTimeout(str(error), request=request) from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except aiohttp.ClientError as error:
            raise httpx.NetworkError(str(error), request=request) from error
        return httpx.Response(response.status, headers=response.raw_headers, content=body, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _UserToken(AccessTokenProvider):
    """Hands one user's token to the Graph host only (kiota drops it for any other host)."""

    def __init__(self, token: str, validator: AllowedHostsValidator) -> None:
        self._token = token
        self._validator = validator

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] = {}) -> str:  # noqa: B006
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._validator


class GraphClient:
    """The agent's gateway to Graph: build it once per app, call `session(token)` once per command."""

    def __init__(self, cloud: Cloud, http: SharedHttp, deadline: float = DEFAULT_DEADLINE) -> None:
        self.base_url = cloud.graph_base_url().rstrip("/")
        self._http = http
        self._deadline = deadline
        self._hosts = AllowedHostsValidator([urlsplit(self.base_url).hostname or ""])
        self.known_zones: KnownHints[Zone] = KnownHints()
        """Each user's zone as last shown, so `/calendar` guesses it right and costs one round trip."""
        self.known_users: KnownHints[SignedInUser] = KnownHints()
        """Each user's name and UPN, so `/files` asks who they are once an hour, not on every command."""

    def remember_user(self, token: str, body: Mapping[str, Any]) -> SignedInUser | None:
        """Keep who the token's user is from a `/me` answer holding `displayName` and `userPrincipalName` (`WHO`),
        so `/files` need not ask; None when the answer lacks either."""
        name, upn = body.get("displayName"), body.get("userPrincipalName")
        if not isinstance(name, str) or not name.strip() or not isinstance(upn, str) or "@" not in upn:
            return None
        me = SignedInUser(display_name=name.strip(), user_principal_name=upn)
        self.known_users.put(user_key(token), me)
        return me

    def session(self, token: str) -> GraphSession:
        """A per-user msgraph-sdk client (cheap: it shares the process's adapter) whose calls share one deadline from
        now."""
        return self._session(BaseBearerTokenAuthenticationProvider(_UserToken(token, self._hosts)))

    def _session(self, auth: AuthenticationProvider) -> GraphSession:
        adapter = GraphRequestAdapter(auth, client=self._http.client())
        adapter.base_url = self.base_url
        seconds = min(self._deadline, turn_deadline.work_left(self._deadline))  # within the turn's, when in one
        return GraphSession(GraphServiceClient(request_adapter=adapter), adapter, time.monotonic() + seconds)

    def warm_up(self) -> None:
        """Import and build what the first request needs, without the network (blocking: the SDK imports lazily)."""
        session = self._session(AnonymousAuthenticationProvider())
        session.sdk.me.to_get_request_information()
        session.sdk.me.calendar_view.to_get_request_information()
        ODataError()

    async def start(self) -> None:
        """Warm up at start so the first user pays no import or TLS cost: `warm_up` in a thread, then one `/me`
        without a token, which Graph answers 401, opens the shared pool's connection. Best effort and bounded:
        a failure is logged and the agent serves anyway."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(WARM_UP_SECONDS):
                await asyncio.to_thread(self.warm_up)
                session = self._session(AnonymousAuthenticationProvider())
                request = session.sdk.me.to_get_request_information()
                await session.adapter.send_primitive_async(request, "bytes", _ERROR_MAP)
        except APIError:
            pass  # the expected 401: the connection is open and back in the pool
        except Exception as error:  # any failure here only means a colder first request
            log.warning("Graph warm-up failed; the first request will be slower: %r", error)
            return
        log.info("Graph warm-up done in %.0f ms", (time.monotonic() - started) * 1000)

    async def aclose(self) -> None:
        await self._http.aclose()


class GraphSession:
    """One command's calls for one user, all under the same deadline."""

    def __init__(self, sdk: GraphServiceClient, adapter: GraphRequestAdapter, deadline_at: float) -> None:
        self.sdk = sdk
        self.adapter = adapter
        self.deadline_at = deadline_at

    def remaining(self) -> float:
        return self.deadline_at - time.monotonic()

    def is_graph_url(self, url: str) -> bool:
        """True for a URL under this Graph's base: a `next_link` coming back from a card must not go elsewhere."""
        return url.startswith(f"{self.adapter.base_url}/")

    async def send(self, request: RequestInformation, permission: str) -> bytes:
        """Send `request`, retrying 429/503/504 only while the wait fits in the deadline; `permission` is the scope
        named when Graph answers 403."""
        self.adapter.set_base_url_for_request_information(request)
        request.url = request.url  # expand kiota's URL template once, not once per reader (auth, adapter, httpx)
        try:
            return await retried(lambda: self._send_once(request), when=_retry_request, left=self.remaining,
                                 backoff=BACKOFF)
        except APIError as error:
            status = error.response_status_code or 0
            raise error_for(status, retry_after(error.response_headers), permission, _odata_code(error),
                            _challenge(error.response_headers)) from None
        except (TimeoutError, httpx.TransportError):
            raise GraphUnavailable() from None

    async def _send_once(self, request: RequestInformation) -> bytes:
        async with asyncio.timeout(max(self.remaining(), 0)):
            return await self.adapter.send_primitive_async(request, "bytes", _ERROR_MAP) or b""

    async def send_json(self, request: RequestInformation, permission: str) -> dict[str, Any]:
        body = json.loads(await self.send(request, permission) or b"{}")
        if not isinstance(body, dict):
            raise GraphUnavailable("Microsoft Graph sent an unexpected answer.")
        return body

    async def post_json(self, path: str, body: Mapping[str, Any], permission: str) -> dict[str, Any]:
        """POST a JSON body to `path` (under the version, e.g. `/search/query`) through the SDK's adapter."""
        request = RequestInformation(Method.POST, f"{self.adapter.base_url}{path}")
        request.headers.try_add("Content-Type", "application/json")
        request.content = json.dumps(body).encode()
        return await self.send_json(request, permission)

    async def batch(self, requests: Sequence[BatchRequest], permission: str) -> dict[str, BatchAnswer]:
        """Independent GETs in one `$batch` round trip; each answer by its request's id, whatever order Graph answers
        in (json-batching: "Individual responses might appear in a different order").

        A throttled item (429, or 503/504) is retried as a whole request is: json-batching's items are "evaluated
        individually against throttling limits" and throttling.md's "Throttling and batching" says to retry each
        failed request after its `Retry-After`, in a new batch after the longest. Only the items that failed go
        again, and only while the wait fits in this command's deadline; otherwise their failure is answered."""
        answers: dict[str, BatchAnswer] = {}
        pending = list(requests)

        async def send_pending() -> None:
            nonlocal pending
            body = await self.post_json("/$batch", {"requests": [item.as_json() for item in pending]}, permission)
            responses = [item for item in body.get("responses") or [] if isinstance(item, dict)]
            by_id = {str(item.get("id")).lower(): item for item in responses}
            for item in pending:
                answers[item.id] = BatchAnswer.from_json(by_id.get(item.id.lower()))
            pending = [item for item in pending if answers[item.id].status in RETRYABLE]
            if pending:
                waits = [wait for item in pending if (wait := retry_after(answers[item.id].headers)) is not None]
                raise _ItemsThrottled(max(waits, default=None))

        with contextlib.suppress(_ItemsThrottled):
            await retried(send_pending, when=_retry_items, left=self.remaining, backoff=BACKOFF)
        return answers


WHO = "displayName,userPrincipalName"
"""What `/files` needs to know of the user (`SignedInUser`): `$select`ed beside any `/me` the agent asks anyway."""


@dataclass(frozen=True)
class BatchRequest:
    """One GET of a `$batch`: its id and its URL relative to the version (`/me?$select=displayName`)."""

    id: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "method": "GET", "url": self.url, **({"headers": dict(self.headers)} if self.headers
                                                                   else {})}


@dataclass(frozen=True)
class BatchAnswer:
    """One item's answer: its status, headers (names in lower case) and body (JSON, or base64 for binary)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @classmethod
    def from_json(cls, item: Mapping[str, Any] | None) -> BatchAnswer:
        """A missing or malformed item is a 502: Graph owed an answer and sent none."""
        if item is None or not isinstance(item.get("status"), int):
            return cls(502, {}, None)
        headers = item.get("headers")
        return cls(item["status"], {str(name).lower(): str(value) for name, value in headers.items()}
                   if isinstance(headers, dict) else {}, item.get("body"))

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self) -> dict[str, Any]:
        """The body of a JSON answer, `{}` for anything else."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def code(self) -> str | None:
        """Graph's error code (`error.code` of the body), if the answer is an error in Graph's shape."""
        error = self.json().get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None

    def error(self, permission: str) -> GraphError:
        return error_for(self.status, retry_after(self.headers), permission, self.code, _challenge(self.headers))


def user_key(token: str) -> str:
    """Who a Graph token is for, as a cache key: its tenant and object id (`tid`, `oid`), read without checking the
    signature, so used only after Graph has accepted the token and only to key a hint Graph re-checks. A token that
    is not a readable JWT is keyed by its own hash (never by the token itself)."""
    claims = unverified_claims(token) or {}
    if claims.get("oid") and claims.get("tid"):
        return f"{claims['tid']}/{claims['oid']}"
    return hashlib.sha256(token.encode()).hexdigest()


NO_MAILBOX_CODES = frozenset({"OrganizationFromTenantGuidNotFound", "MailboxNotEnabledForRESTAPI",
                              "MailboxNotSupportedForRESTAPI"})
"""A token Graph accepted, for a user whose mailbox it cannot reach. Learn documents none of them; each is publicly
reported: 401 `OrganizationFromTenantGuidNotFound` for a tenant without Exchange Online (msgraph-sdk-dotnet issue
1920, azure-docs issue 32957), 404 `MailboxNotEnabledForRESTAPI` ("The mailbox is either inactive, soft-deleted, or
is hosted on-premise": microsoft/MicrosoftCloud issue 41, msgraph-sdk-javascript issue 1756) and
`MailboxNotSupportedForRESTAPI` (named beside it by Outlook's REST team, jasonjoh/php-tutorial issue 2)."""
BAD_TOKEN_CODES = frozenset({"InvalidAuthenticationToken"})
"""errors, resolve-auth-errors: "the access token might be missing … or the token is invalid or is expired"."""


def error_for(status: int, wait: int | None, permission: str, code: str | None = None,
              challenge: str | None = None) -> GraphError:
    """The domain error for a failed Graph answer (a whole request or one `$batch` item), from its status, its
    error code and its `WWW-Authenticate` header.

    Only a bad token signs the user out: `InvalidAuthenticationToken`, a 401 without a code (nothing says otherwise),
    or a claims challenge (claims-challenge: `error="insufficient_claims"` with a `claims` directive, on a 401, or on
    the 403 that errors documents for Conditional Access). A user without a reachable mailbox is told so; any other
    401 is a refusal, so a code Graph adds later cannot sign a user out after every command."""
    if challenge is not None and "insufficient_claims" in challenge.lower():
        return SignInRequired()
    if code in NO_MAILBOX_CODES:
        return MailboxUnavailable(code)
    if status == 401:
        return SignInRequired() if code is None or code in BAD_TOKEN_CODES else GraphRefused(status, code)
    if status == 403:
        return MissingPermission(permission)
    if is_busy(status, wait):
        return GraphBusy(wait)
    if status >= 500 or status < 400:
        return GraphUnavailable(f"Microsoft Graph answered {status}.")
    return GraphRefused(status, code)


def _retry_request(error: BaseException) -> Decision:
    """A throttled or failing request (429, 503, 504) goes again, after its `Retry-After` when Graph sent one."""
    if isinstance(error, APIError) and (error.response_status_code or 0) in RETRYABLE:
        return retry_after(error.response_headers) or True
    return False


class _ItemsThrottled(Exception):
    """Items of a `$batch` were throttled or failed; Graph asked to wait `wait` s, when it said."""

    def __init__(self, wait: int | None) -> None:
        super().__init__(f"throttled items, Retry-After {wait}")
        self.wait = wait


def _retry_items(error: BaseException) -> Decision:
    """A `$batch`'s throttled items go again in a new batch, after the longest `Retry-After` among them."""
    return (error.wait or True) if isinstance(error, _ItemsThrottled) else False


def _odata_code(error: APIError) -> str | None:
    """The `error.code` of Graph's error body, as msgraph-sdk decoded it (None for a body it could not read)."""
    main = getattr(error, "error", None) if isinstance(error, ODataError) else None
    code = getattr(main, "code", None)
    return code if isinstance(code, str) and code else None


def _challenge(headers: Mapping[str, str] | None) -> str | None:
    """The `WWW-Authenticate` header, whatever its case."""
    return next((str(value) for name, value in (headers or {}).items() if name.lower() == "www-authenticate"), None)
