"""A call is tried again one way (`turn.retry`): as its caller says, at most so many times, and only while the wait
and an attempt after it fit in the time left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from turn.retry import MARGIN, Backoff, Decision, retried, within

BACKOFF = Backoff(3, wait_initial=0.5, wait_max=1.0)


class Busy(Exception):
    pass


class Call:
    """Fails with `Busy` `failures` times, then answers "done"."""

    def __init__(self, failures: int) -> None:
        self.failures, self.attempts = failures, 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise Busy()
        return "done"


def busy_goes_again(error: BaseException) -> Decision:
    return isinstance(error, Busy)


@pytest.fixture(autouse=True)
def no_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):  # the waits go, the attempts stay
        yield


async def test_a_call_that_succeeds_is_made_once() -> None:
    call = Call(failures=0)

    assert await retried(call, when=busy_goes_again, left=lambda: 10.0, backoff=BACKOFF) == "done"
    assert call.attempts == 1


async def test_a_failure_that_goes_again_is_tried_until_the_call_succeeds() -> None:
    call = Call(failures=2)

    assert await retried(call, when=busy_goes_again, left=lambda: 10.0, backoff=BACKOFF) == "done"
    assert call.attempts == 3


async def test_the_last_failure_is_raised_after_the_last_attempt() -> None:
    call = Call(failures=5)

    with pytest.raises(Busy):
        await retried(call, when=busy_goes_again, left=lambda: 10.0, backoff=BACKOFF)
    assert call.attempts == BACKOFF.attempts


async def test_a_failure_the_caller_does_not_retry_is_raised_at_once() -> None:
    call = Call(failures=1)

    with pytest.raises(Busy):
        await retried(call, when=lambda _error: False, left=lambda: 10.0, backoff=BACKOFF)
    assert call.attempts == 1


async def test_no_attempt_is_made_when_the_wait_before_it_would_use_up_the_time_left() -> None:
    call = Call(failures=1)

    with pytest.raises(Busy):
        await retried(call, when=lambda _error: 3.0, left=lambda: 3.0, backoff=BACKOFF)
    assert call.attempts == 1


def test_a_wait_the_service_asked_for_is_kept_when_an_attempt_still_fits_after_it() -> None:
    assert within(3.0, left=3.0 + MARGIN + 0.1, wait_max=1.0) == 3.0
    assert within(3.0, left=3.0 + MARGIN, wait_max=1.0) is False


def test_a_backoff_is_taken_only_when_its_longest_wait_and_an_attempt_fit() -> None:
    assert within(True, left=1.0 + MARGIN + 0.1, wait_max=1.0) is True
    assert within(True, left=1.0 + MARGIN, wait_max=1.0) is False
