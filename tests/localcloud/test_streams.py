"""The Teams channel's streaming rules (`localcloud/streams.py`), one rule a test, on a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.streams import (
    CANCELED_BY_USER,
    COMPLETED,
    NOT_ALLOWED,
    NOT_ENABLED,
    QUOTA,
    TIMED_OUT,
    Accepted,
    StreamRefused,
    Streams,
)

CHAT = "a:1personal"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def streams(clock: Clock) -> Streams:
    return Streams(clock)


def typing(text: str | None, stream_type: str = "informative", sequence: int | None = 1,
           stream_id: str | None = None, **fields: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"type": "streaminfo", "streamType": stream_type}
    if sequence is not None:
        info["streamSequence"] = sequence
    if stream_id:
        info["streamId"] = stream_id
    return {"type": "typing", **({"text": text} if text is not None else {}), "entities": [info], **fields}


def final(text: str, stream_id: str, **info: Any) -> dict[str, Any]:
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard"}}
    return {"type": "message", "text": text, "attachments": [card],
            "entities": [{"type": "streaminfo", "streamType": "final", "streamId": stream_id, **info}]}


def start(streams: Streams, clock: Clock, text: str = "Reading your calendar…") -> str:
    accepted = streams.check(CHAT, "personal", typing(text), "s1")
    assert accepted == Accepted(201, "s1")
    clock.now += 1.0
    return accepted.stream_id


def refusal(streams: Streams, activity: dict[str, Any], conversation_type: str = "personal",
            new_id: str = "s2") -> tuple[int, str, str]:
    with pytest.raises(StreamRefused) as refused:
        streams.check(CHAT, conversation_type, activity, new_id)
    return refused.value.status, refused.value.code, refused.value.message


def test_an_informative_update_then_the_final_card_is_a_valid_stream(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)

    assert streams.check(CHAT, "personal", final("Your calendar, today", stream_id), "x") == Accepted(202, stream_id)
    (stream,) = streams.report(CHAT)["streams"]
    assert stream["completed"] and stream["informative"] == ["Reading your calendar…"]
    assert streams.report(CHAT)["refused"] == []


def test_streaming_outside_a_one_on_one_chat_is_refused_as_not_enabled(streams: Streams) -> None:
    assert refusal(streams, typing("Working…"), "groupChat") == (400, "BadArgument", NOT_ENABLED)


def test_the_start_needs_sequence_1(streams: Streams) -> None:
    assert refusal(streams, typing("Working…", sequence=2))[:2] == (400, "BadRequest")


def test_the_start_needs_text(streams: Streams) -> None:
    assert refusal(streams, typing(None)) == (400, "BadRequest", "Start streaming activities should include text")


def test_a_typing_activity_cannot_be_final(streams: Streams) -> None:
    assert refusal(streams, typing("Done", "final"))[:2] == (400, "BadRequest")


def test_a_stream_must_start_before_its_final_message(streams: Streams) -> None:
    message = final("Done", "")
    message["entities"][0].pop("streamId")
    assert refusal(streams, message)[:2] == (400, "BadRequest")


def test_attachments_only_ride_on_the_final_message(streams: Streams) -> None:
    activity = typing("Working…", attachments=[{"contentType": "text/plain", "content": "x"}])
    assert refusal(streams, activity)[:2] == (400, "BadRequest")


def test_an_informative_update_over_1000_characters_is_refused(streams: Streams) -> None:
    assert refusal(streams, typing("x" * 1001))[:2] == (400, "BadRequest")


def test_the_final_message_must_not_carry_a_sequence_number(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    assert refusal(streams, final("Done", stream_id, streamSequence=2))[:2] == (400, "BadRequest")


def test_the_final_message_needs_text(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    assert refusal(streams, final("", stream_id))[:2] == (400, "BadRequest")


def test_an_unknown_stream_is_refused(streams: Streams, clock: Clock) -> None:
    start(streams, clock)
    assert refusal(streams, final("Done", "not-a-stream"))[:2] == (400, "BadRequest")


def test_more_than_one_request_a_second_is_throttled(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    clock.now -= 0.5
    assert refusal(streams, final("Done", stream_id)) == (429, "TooManyRequests", QUOTA)


def test_nothing_is_taken_on_a_completed_stream(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    streams.check(CHAT, "personal", final("Done", stream_id), "x")
    clock.now += 1.0
    assert refusal(streams, final("Done again", stream_id)) == (403, "ContentStreamNotAllowed", COMPLETED)


def test_a_stream_must_finish_within_two_minutes(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    clock.now += 120
    assert refusal(streams, final("Done", stream_id)) == (403, "ContentStreamNotAllowed", TIMED_OUT)


def test_a_sequence_number_out_of_order_is_dropped(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    assert streams.check(CHAT, "personal", typing("Still working…", sequence=1, stream_id=stream_id), "x").dropped
    assert streams.report(CHAT)["dropped"]


def test_a_gap_in_the_sequence_is_refused(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    assert refusal(streams, typing("Still working…", sequence=3, stream_id=stream_id))[:2] == (400, "BadRequest")


def test_streamed_text_must_keep_what_was_streamed(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    streams.check(CHAT, "personal", typing("A brown fox", "streaming", 2, stream_id), "x")
    clock.now += 1.0

    assert refusal(streams, typing("Hello", "streaming", 3, stream_id))[:2] == (403, "ContentStreamNotAllowed")
    assert refusal(streams, final("A cat", stream_id))[:2] == (400, "BadRequest")
    assert streams.check(CHAT, "personal", final("A brown fox jumped", stream_id), "x").status == 202


def test_one_stream_at_a_time_in_a_chat(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    assert refusal(streams, typing("Another")) == (403, "ContentStreamNotAllowed", NOT_ALLOWED)

    streams.check(CHAT, "personal", final("Done", stream_id), "x")
    assert streams.check(CHAT, "personal", typing("Another"), "s3").status == 201


def test_each_refusal_is_reported_for_its_conversation(streams: Streams) -> None:
    refusal(streams, typing(None))
    (refused,) = streams.report(CHAT)["refused"]
    assert (refused["status"], refused["code"]) == (400, "BadRequest")
    assert streams.report("another chat")["refused"] == []


def test_after_the_user_presses_stop_the_stream_takes_nothing_more(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)

    stopped = streams.stop(CHAT)

    assert stopped is not None and stopped.id == stream_id
    assert refusal(streams, final("Done", stream_id)) == (403, "ContentStreamNotAllowed", CANCELED_BY_USER)
    assert refusal(streams, typing("Still working…", sequence=2, stream_id=stream_id))[2] == CANCELED_BY_USER


def test_stop_is_pressed_only_on_an_open_stream(streams: Streams, clock: Clock) -> None:
    stream_id = start(streams, clock)
    streams.check(CHAT, "personal", final("Done", stream_id), "x")

    assert streams.stop(CHAT) is None


def test_a_stopped_stream_leaves_the_chat_free_for_the_next_one(streams: Streams, clock: Clock) -> None:
    start(streams, clock)
    streams.stop(CHAT)

    assert streams.check(CHAT, "personal", typing("Another"), "s3").status == 201
