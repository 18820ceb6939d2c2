"""The one way a call is tried again: stamina's backoff, for as long as an answer can still come in time.

The caller says which failures go again and when (`when`: not at all, after stamina's backoff, or after a wait it
knows, such as the service's `Retry-After`) and how long is left (`left`: the turn's deadline, `turn.deadline`); a wait
that would leave no time for the attempt after it is not taken, and the last failure is raised instead. Nearly every
call succeeds at once, so the first attempt runs on its own, without the cost of stamina's retry context; a first
failure is raised again inside stamina's first attempt, so its hook, waits and attempt count are what they would have
been.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

T = TypeVar("T")

MARGIN = 0.5
"""Seconds an attempt needs after a wait, at least: a wait that leaves less is not worth taking."""

Decision = bool | float
"""Whether a failure goes again: False, not at all; True (or 0), after stamina's backoff; a number, after that many
seconds."""


@dataclass(frozen=True)
class Backoff:
    """How many attempts at most (None: until one succeeds) and stamina's exponential waits between them."""

    attempts: int | None
    wait_initial: float
    wait_max: float
    wait_jitter: float = 0.0


def within(decision: Decision, left: float, wait_max: float) -> Decision:
    """`decision`, when its wait (at most `wait_max` for stamina's own) and an attempt after it fit in the `left`
    seconds; else False."""
    if decision is False:
        return False
    if decision is True or not decision:
        return left > wait_max + MARGIN
    return decision if decision + MARGIN < left else False


async def retried(attempt: Callable[[], Awaitable[T]], *, when: Callable[[BaseException], Decision],
                  left: Callable[[], float], backoff: Backoff) -> T:
    """`attempt()`, tried again as `when` says while the next try fits in the `left()` seconds; else its last
    failure."""

    def hook(error: BaseException) -> Decision:
        return within(when(error), left(), backoff.wait_max)

    try:
        return await attempt()
    except Exception as error:
        first_failure: Exception | None = error
    async for trying in stamina.retry_context(on=hook, attempts=backoff.attempts, timeout=None,
                                              wait_initial=backoff.wait_initial, wait_max=backoff.wait_max,
                                              wait_jitter=backoff.wait_jitter):
        with trying:
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            return await attempt()
    raise AssertionError("unreachable: stamina returns, or raises the last error")
