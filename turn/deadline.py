"""One deadline per turn, shared by every outbound call the turn makes.

Bot Service waits 10 to 15 s for a turn, depending on the channel, then answers the channel 504 GatewayTimeout
(https://learn.microsoft.com/en-us/azure/bot-service/bot-builder-howto-long-operations-guidance). So the token service,
Entra (MSAL), Graph and storage calls of a turn all end by `work_left()`, and the last share of the turn is kept for
replies to the channel (`reply_left()`), so the apology for a slow service still goes out in time.

The deadline is a context variable: the tasks a turn starts and `asyncio.to_thread` (where MSAL runs) see it too.
Outside a turn (start-up, readiness probes) each caller uses its own default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

REPLY_SHARE = 0.2
"""The last fifth of a turn (2 s of 10) is for replies only: a service that used all its time still gets explained."""


@dataclass(frozen=True)
class TurnDeadline:
    work_at: float
    """`time.monotonic()` by which every call but a reply has to be done."""
    reply_at: float
    """`time.monotonic()` by which the turn's replies have to be delivered: the end of the turn."""

    @classmethod
    def starting_now(cls, seconds: float) -> TurnDeadline:
        now = time.monotonic()
        return cls(work_at=now + seconds * (1 - REPLY_SHARE), reply_at=now + seconds)


_current: ContextVar[TurnDeadline | None] = ContextVar("turn_deadline", default=None)


@contextmanager
def turn(seconds: float) -> Iterator[TurnDeadline]:
    """A new turn's deadline for the code inside (a replayed turn gets its own, not its parent's)."""
    deadline = TurnDeadline.starting_now(seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def work_left(default: float) -> float:
    """Seconds left for a call of the turn (never below 0); `default` outside a turn."""
    deadline = _current.get()
    return default if deadline is None else max(deadline.work_at - time.monotonic(), 0.0)


def reply_left(default: float) -> float:
    """Seconds left to deliver a reply (never below 0); `default` outside a turn."""
    deadline = _current.get()
    return default if deadline is None else max(deadline.reply_at - time.monotonic(), 0.0)
