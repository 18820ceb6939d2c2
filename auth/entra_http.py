"""MSAL's HTTP to Entra ID: bounded by the turn's deadline, its failures named, its throttling told with the time left.

MSAL is synchronous; the SDK runs it with `asyncio.to_thread`, which carries our context variables into the thread.
So `MsalHttp` (MSAL's `http_client`) reads the turn's deadline as its timeout and notes each failed answer on the
`EntraCall` of the call in progress, and `AppThrottle` (MSAL's `http_cache`) notes there a throttled answer MSAL
replays instead of asking Entra.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from turn import deadline
from turn.faults import ENTRA, ServiceFault, ServiceUnavailable, fault_for, is_fault_status

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


@contextmanager
def entra_call() -> Iterator[EntraCall]:
    """One token acquisition, whose failures `MsalHttp` and `AppThrottle` note."""
    call = EntraCall()
    token = _call.set(call)
    try:
        yield call
    finally:
        _call.reset(token)


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


class AppThrottle(MutableMapping[str, Any]):
    """MSAL's `http_cache`, one per MSAL app: Entra's throttling holds the agent's requests for every user, and each
    user it holds is told how long is left.

    After a 429 (or any answer with `Retry-After`) MSAL answers the same token request from here, without asking
    Entra, until the `Retry-After` (5 s without one) has passed. It keys that by client, scope and an "account" taken
    from the refresh token, code, username or user id of the request (msal/throttled_http_client.py); an on-behalf-of
    request has none, so one user's throttled exchange holds every user's exchange for the same scope. That is what
    Entra means: it "throttles applications when you call the authentication API too frequently", a 429 with
    `Retry-After` is how it tells the application to back off, and the throttling state "affects all flows"; its
    answer for one user's repeated requests is another one, `invalid_grant` with AADSTS50196
    (https://learn.microsoft.com/en-us/entra/msal/dotnet/advanced/client-and-server-throttling), which MSAL keeps
    apart per request. MSAL.NET keys its own throttling state the same way, with no account for on-behalf-of.

    A replayed answer carries the `Retry-After` Entra first sent, so the time left is read from MSAL's expiry index
    instead. A 5xx without `Retry-After` is not kept: that page holds one only for public clients, and MSAL Python's
    own 5-second guess would fail every user's exchange after one failed request though Entra said nothing.
    """

    _INDEX = "_index_"
    """The key MSAL's `_ExpiringMapping` keeps its expiry index under, in the mapping it is given: (heap, {key:
    [expires_at, created_at]}) in epoch seconds."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        value = self._items[key]
        call = _call.get()
        if call is not None and key != self._INDEX and hasattr(value, "status_code"):  # an answer, replayed
            call.answered(value.status_code, {"Retry-After": str(self._seconds_left(key))})
        return value

    def _seconds_left(self, key: str) -> int:
        expires_at = self._items[self._INDEX][1][key][0]
        return max(1, math.ceil(expires_at - time.time()))

    def __setitem__(self, key: str, value: Any) -> None:
        if key != self._INDEX and _unsaid_5xx(value):
            return  # MSAL then finds nothing under the key it indexed, and asks Entra
        self._items[key] = value

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def pop(self, key: str, default: Any = None) -> Any:  # type: ignore[override]  # MSAL's expiry: not a replay
        return self._items.pop(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


def _unsaid_5xx(answer: Any) -> bool:
    """A 5xx answer that did not say when to try again (MSAL keeps answers with their headers in lower case)."""
    status = getattr(answer, "status_code", None)
    return isinstance(status, int) and status >= 500 and "retry-after" not in getattr(answer, "headers", {})
