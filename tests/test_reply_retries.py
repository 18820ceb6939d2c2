"""Replies are retried as Teams asks (`auth.channel_http`): four attempts at most, the first one outside stamina."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import stamina
from yarl import URL

from auth.channel_http import REPLY_ATTEMPTS, _retried_reply
from hosting.faults import ReplyUndelivered

REQUEST = cast(Any, type("Request", (), {"method": "POST",
                                        "url": URL("https://smba.example/teams/v3/conversations/a/activities/1")}))


class Response:
    def __init__(self, status: int) -> None:
        self.status, self.headers, self.released = status, {}, False

    def release(self) -> None:
        self.released = True


class Channel:
    """Answers each attempt with the next of `answers`: a status, or an exception to raise."""

    def __init__(self, *answers: int | BaseException) -> None:
        self.answers, self.attempts = list(answers), 0

    async def __call__(self, _request: Any) -> Response:
        answer = self.answers[min(self.attempts, len(self.answers) - 1)]
        self.attempts += 1
        if isinstance(answer, BaseException):
            raise answer
        return Response(answer)


@pytest.fixture(autouse=True)
def no_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=REPLY_ATTEMPTS + 10, cap=True):  # the waits go, the attempts stay
        yield


async def test_a_reply_that_lands_is_sent_once() -> None:
    channel = Channel(201)

    response = await _retried_reply(REQUEST, cast(Any, channel))

    assert response.status == 201 and channel.attempts == 1


async def test_a_reply_refused_three_times_is_delivered_on_the_fourth_attempt() -> None:
    channel = Channel(503, 429, 500, 201)

    response = await _retried_reply(REQUEST, cast(Any, channel))

    assert response.status == 201 and channel.attempts == REPLY_ATTEMPTS == 4


async def test_a_reply_refused_every_time_is_undelivered_after_four_attempts() -> None:
    channel = Channel(503)

    with pytest.raises(ReplyUndelivered):
        await _retried_reply(REQUEST, cast(Any, channel))
    assert channel.attempts == REPLY_ATTEMPTS


async def test_a_reply_that_timed_out_is_not_sent_again() -> None:
    channel = Channel(TimeoutError(), 201)  # the attempt had all the reply time the turn had left

    with pytest.raises(ReplyUndelivered):
        await _retried_reply(REQUEST, cast(Any, channel))
    assert channel.attempts == 1
