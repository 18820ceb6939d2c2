"""MSAL's HTTP to Entra ID: bounded by the turn's deadline, its failures named, its throttling kept per user.

MSAL is synchronous; the SDK runs it with `asyncio.to_thread`, which carries our context variables into the thread.
So `MsalHttp` (MSAL's `http_client`) reads the turn's deadline as its timeout and notes each failed answer on the
`EntraCall` of the call in progress, and `PerUserThrottle` (MSAL's `http_cache`) knows whose on-behalf-of request it
is caching.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import jwt
import requests
from requests.adapters import HTTPAdapter

from hosting import deadline
from hosting.faults import ENTRA, ServiceFault, ServiceUnavailable, fault_for, is_fault_status

ENTRA_TIMEOUT = 10.0
"""Seconds for one call to Entra outside a turn (never more than the turn's deadline inside one)."""


class EntraCall:
    """What Entra answered during one token acquisition: the fault to raise instead of MSAL's error dict, and how
    long the token it gave lives (`expires_in`, seconds)."""

    def __init__(self) -> None:
        self.fault: ServiceFault | None = None
        self.expires_in: float | None = None

    def answered(self, status: int, headers: Any) -> None:
        if is_fault_status(status):
            self.fault = fault_for(ENTRA, status, headers)


_call: ContextVar[EntraCall | None] = ContextVar("entra_call", default=None)
_account: ContextVar[str] = ContextVar("entra_throttle_account", default="")


@contextmanager
def entra_call(user_assertion: str | None = None) -> Iterator[EntraCall]:
    """One token acquisition; with `user_assertion` (on-behalf-of), MSAL throttles it for that user only."""
    call = EntraCall()
    call_token, account_token = _call.set(call), _account.set(_user_of(user_assertion) if user_assertion else "")
    try:
        yield call
    finally:
        _call.reset(call_token)
        _account.reset(account_token)


def note_lifetime(expires_in: object) -> None:
    """Called where MSAL's answer is seen (its thread): the token's lifetime in seconds (a number, or a string as
    v1-style endpoints send it), for the `EntraCall` in progress."""
    call = _call.get()
    if call is None or not isinstance(expires_in, int | float | str) or isinstance(expires_in, bool):
        return
    try:
        call.expires_in = float(expires_in)
    except ValueError:
        call.expires_in = None


def _user_of(assertion: str) -> str:
    """Who the assertion is for (tenant and object id; it was validated on the way in), so a user's fresh token does
    not escape their throttling; a hash of the token itself if it names nobody."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        claims = {}
    if claims.get("oid") and claims.get("tid"):
        return f"{claims['tid']}/{claims['oid']}"
    return hashlib.sha256(assertion.encode()).hexdigest()


class _SslContextAdapter(HTTPAdapter):
    """Lets requests verify with our context, which adds `EXTRA_CA_FILE` to the system's CAs."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class MsalHttp(requests.Session):
    """MSAL's `http_client`: the turn's deadline is each request's timeout; failures are noted for `EntraCall`.

    A timeout or reset raises as requests does (MSAL lets it through) and becomes `ServiceUnavailable` in
    `CloudMsalAuth`; a 429 or 5xx answer is noted here, since MSAL turns it into an error dict or an exception that no
    longer carries the status or `Retry-After`.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.mount("https://", _SslContextAdapter(context))

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = max(deadline.work_left(ENTRA_TIMEOUT), 0.01)
        response = super().request(method, url, *args, **kwargs)
        call = _call.get()
        if call is not None:
            call.answered(response.status_code, response.headers)
        return response


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(ENTRA)


class PerUserThrottle(MutableMapping[str, Any]):
    """MSAL's `http_cache`, kept apart per user for on-behalf-of requests.

    MSAL answers a token request that got a 429 or 5xx from its cache, without asking Entra, until `Retry-After` (5 s
    without one) has passed. It keys that by client, scope and an "account" it takes from the refresh token, code,
    username or user id of the request (msal/throttled_http_client.py), and an on-behalf-of request has none of them:
    one user's throttled OBO then failed every other user's OBO for the same scope. Entra throttles user-facing
    requests per user (https://learn.microsoft.com/en-us/entra/msal/dotnet/advanced/client-and-server-throttling: a
    client-credentials request gets 429 with `Retry-After`, a user-facing one `AADSTS50196` for that user), so here
    each OBO user gets MSAL's cache to themselves, and the agent's own requests (client credentials) share one, as
    Entra's app-wide throttling of them means. A throttled answer MSAL serves from here is noted for `EntraCall` too.
    """

    _INDEX = "_index_"
    """The key MSAL's `_ExpiringMapping` keeps its expiry index under, in the mapping it is given."""

    def __init__(self) -> None:
        self._accounts: dict[str, dict[str, Any]] = {}

    def _items(self) -> dict[str, Any]:
        return self._accounts.get(_account.get(), {})

    def __getitem__(self, key: str) -> Any:
        value = self._items()[key]
        call = _call.get()
        if call is not None and key != self._INDEX and hasattr(value, "status_code"):  # a throttled answer, replayed
            call.answered(value.status_code, getattr(value, "headers", {}))
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        account = _account.get()
        items = self._accounts.setdefault(account, {})
        items[key] = value
        if key == self._INDEX and len(items) == 1 and not value[1]:  # nothing cached for this account any more
            del self._accounts[account]

    def __delitem__(self, key: str) -> None:
        del self._items()[key]

    def pop(self, key: str, default: Any = None) -> Any:  # type: ignore[override]  # MSAL's expiry: not a replay
        return self._items().pop(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items()))

    def __len__(self) -> int:
        return len(self._items())
