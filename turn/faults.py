"""Faults of the services a turn calls: each is something to tell the user, not a bug to trace.

One type, `ServiceFault`, busy or unavailable, names the service that failed (Graph, the token service, Entra ID,
storage) and says when to try again when the service said so (`Retry-After`); one rule (`fault_for`) tells the two
apart for every service. A reply that cannot be delivered is `ReplyUndelivered`: nobody can be told, so it is logged
once and the turn ends.
"""

from __future__ import annotations

from collections.abc import Mapping

TOKEN_SERVICE = "Microsoft's sign-in service (Azure Bot Service)"
ENTRA = "Microsoft Entra ID (the Microsoft 365 sign-in)"
STORAGE = "My storage"


class ServiceFault(Exception):
    """A service failed one of the turn's calls: throttled, failing, unreachable or too slow."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service


class ServiceBusy(ServiceFault):
    """429 (or 503 with `Retry-After`): the service asked us to wait `retry_after` s, when it said."""

    def __init__(self, service: str, retry_after: int | None, message: str | None = None) -> None:
        super().__init__(
            service, message or f"{service} is busy right now. Please try again {try_again_in(retry_after)}.")
        self.retry_after = retry_after


class ServiceUnavailable(ServiceFault):
    """5xx, a reset connection, or no answer before the turn's deadline."""

    def __init__(self, service: str, message: str | None = None) -> None:
        super().__init__(
            service, message or f"{service} is not available right now. Sorry, please try again in a moment.")


def try_again_in(retry_after: int | None) -> str:
    """When to try again, as the user reads it: "in 30 s" when the service said, else "in a moment"."""
    return f"in {retry_after} s" if retry_after is not None else "in a moment"


class ReplyUndelivered(Exception):
    """The channel (Bot Connector, or Copilot Studio's callback) refused or dropped a reply, retries included."""


def retry_after(headers: Mapping[str, str] | None) -> int | None:
    """`Retry-After` in whole seconds (the services here send delta-seconds), or None."""
    value = next((value for name, value in (headers or {}).items() if name.lower() == "retry-after"), None)
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def is_fault_status(status: int) -> bool:
    """Statuses that mean the service, not the request, failed."""
    return status == 429 or status >= 500


def is_busy(status: int, wait: int | None) -> bool:
    """A 429, or a 503 that says when to come back: the service is up but asks us to wait, which the user is told."""
    return status == 429 or (status == 503 and wait is not None)


def fault_for(service: str, status: int, headers: Mapping[str, str] | None) -> ServiceFault:
    """The fault for a 429 or 5xx answer of `service`."""
    wait = retry_after(headers)
    return ServiceBusy(service, wait) if is_busy(status, wait) else ServiceUnavailable(service)
