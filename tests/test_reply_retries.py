"""Replies are retried as Teams asks (`auth.channel_http`): four attempts at most, the first one outside stamina; a
streaming request only as far as "Stream bot messages" makes it safe, and a second apart at least."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import aiohttp
import pytest
import stamina
from yarl import URL

from auth.channel_http import (
    REPLY_ATTEMPTS,
    STREAM_MIN_WAIT,
    STREAM_START,
    STREAM_UPDATE,
    _Refused,
    _retried_reply,
    _retry_reply,
    retrying,
)
from turn.faults import ReplyUndelivered

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


@pytest.mark.parametrize("failure", [aiohttp.ServerDisconnectedError(), 503, 502], ids=["dropped", "503", "502"])
async def test_a_stream_start_teams_may_have_taken_is_not_sent_again(failure: int | BaseException) -> None:
    """Its answer carries the stream's id; sent again, it would open a second stream in the chat."""
    channel = Channel(failure, 201)

    with retrying(STREAM_START), pytest.raises(ReplyUndelivered):
        await _retried_reply(REQUEST, cast(Any, channel))
    assert channel.attempts == 1


async def test_a_throttled_stream_start_is_sent_again() -> None:
    channel = Channel(429, 201)

    with retrying(STREAM_START):
        response = await _retried_reply(REQUEST, cast(Any, channel))

    assert response.status == 201 and channel.attempts == 2


@pytest.mark.parametrize("failure", [aiohttp.ServerDisconnectedError(), 503], ids=["dropped", "503"])
async def test_a_later_stream_request_is_sent_again(failure: int | BaseException) -> None:
    """It carries the stream's id and sequence number: Teams drops one it has seen, and answers a final message it
    has taken with 403 "already completed"."""
    channel = Channel(failure, 202)

    with retrying(STREAM_UPDATE):
        response = await _retried_reply(REQUEST, cast(Any, channel))

    assert response.status == 202 and channel.attempts == 2


@pytest.mark.parametrize("retries", [STREAM_START, STREAM_UPDATE], ids=["start", "later"])
def test_a_stream_request_is_sent_again_a_second_after_its_429_at_the_soonest(retries: Any) -> None:
    with retrying(retries):
        assert _retry_reply(_Refused(429, None)) == STREAM_MIN_WAIT == 1.0
        assert _retry_reply(_Refused(429, 3)) == 3.0, "a longer Retry-After is honoured"
