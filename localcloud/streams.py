"""Teams' streaming protocol, checked by the local Teams channel the way Teams documents it.

Source: "Stream bot messages" (https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux, REST API,
response codes). A stream is a series of activities the bot sends to a one-on-one chat (or Microsoft 365 Copilot),
each with a `streaminfo` entity:
- the start: a `typing` activity with text, `streamType` `informative` or `streaming` (the default), `streamSequence`
  1 and no `streamId`; answered `201 {"id": streamId}`;
- updates: `typing`, the `streamId`, the next `streamSequence`; a `streaming` update's text must contain what was
  streamed before; answered `202 {}`; one request a second at most ("The throttling limit is 1 request per second");
- the final message: a `message` with `streamType` `final`, the `streamId`, no `streamSequence`, text (which keeps the
  streamed text) and any attachments (attachments only here); answered `202 {}`.
Teams' answers to a stream that breaks the rules, as documented: 400 `BadRequest` for a payload without the values
it needs ("Start streaming activities should include text"); 403 `ContentStreamNotAllowed` for a stream already
completed or older than two minutes; 429 over the rate; `202 ContentStreamSequenceOrderPreConditionFailed` (dropped)
for a sequence number that arrives out of order.
The Stop button ("lets users control streaming responses by stopping them early", the page's user experience section)
ends the stream: every later request for it is answered 403 `ContentStreamNotAllowed` "Content stream was canceled by
user." (the page's error codes, in its spelling). The control API presses it (`Streams.stop`). What Teams answers a
new stream after a stopped one in the same chat is not documented: it is taken, as after a completed one.

Where the page says no more, the safer (stricter) reading is taken, and said so beside the rule:
- streaming outside a one-on-one chat is refused `400 BadArgument` "Streaming API is not enabled for non personal
  scope or non copilot conversations.", the words of Microsoft's Agents Playground, on which the SDK's
  `StreamingResponse` falls back to a plain message;
- a second stream while one is open in the same chat ("Teams supports only one concurrent streaming response per
  chat at a time") is refused `403 ContentStreamNotAllowed`;
- sequence numbers must go up by one (the page's example is 1->2->3), a gap is `400 BadRequest`;
- a final message whose text drops what was streamed is `400 BadRequest` (Microsoft's SDK team, Agents-for-net #251);
- an informative update over 1000 characters ("must not be more than 1 kb or 1000 characters") is `400 BadRequest`;
- a `typing` activity with `streamType` `final` is refused with the Bot Connector's own words (botbuilder-js #4902).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STREAM_INFO = "streaminfo"
STREAMING_CONVERSATIONS = frozenset({"personal"})
MAX_STREAM_SECONDS = 120.0
MIN_REQUEST_INTERVAL = 1.0
CLOCK_TOLERANCE = 0.005
"""Seconds: the sender's one-second pause, measured on another clock read, may end a hair early."""
MAX_INFORMATIVE_CHARACTERS = 1000

NOT_ENABLED = "Streaming API is not enabled for non personal scope or non copilot conversations."
NOT_ALLOWED = "Content stream is not allowed"
COMPLETED = "Content stream is not allowed on an already completed streamed message"
TIMED_OUT = "Content stream finished due to exceeded streaming time."
CANCELED_BY_USER = "Content stream was canceled by user."
OUT_OF_ORDER = "PreCondition failed exception when processing streaming activity."
QUOTA = "API calls quota exceeded"


class StreamRefused(Exception):
    """What Teams answers to a streaming request it does not take."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def stream_info(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The activity's `streaminfo` entity (the page spells the type `streaminfo` and `streamInfo`)."""
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and str(entity.get("type", "")).lower() == STREAM_INFO:
            return entity
    return None


@dataclass
class Stream:
    id: str
    conversation: str
    reply_to: str | None
    started: float
    last_request: float
    sequence: int = 1
    streamed: str = ""
    """The text of the last `streaming` update: what every later text must keep."""
    informative: list[str] = field(default_factory=list)
    completed: bool = False
    stopped: bool = False
    """The user pressed Stop."""

    def report(self) -> dict[str, Any]:
        return {"id": self.id, "replyToId": self.reply_to, "sequence": self.sequence, "informative": self.informative,
                "streamed": self.streamed, "completed": self.completed, "stopped": self.stopped}

    def open(self, now: float) -> bool:
        return not self.completed and not self.stopped and now - self.started <= MAX_STREAM_SECONDS


@dataclass(frozen=True)
class Accepted:
    status: int
    """201 for the start, 202 after."""
    stream_id: str
    dropped: bool = False
    """Out of order: Teams answers 202 and drops it."""


class Streams:
    """Every stream the agent sent, per conversation; `check` takes or refuses each streaming request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.streams: dict[str, Stream] = {}
        self.refused: dict[str, list[dict[str, Any]]] = {}
        self.dropped: dict[str, list[dict[str, Any]]] = {}

    def report(self, conversation: str) -> dict[str, Any]:
        return {"streams": [stream.report() for stream in self.streams.values() if stream.conversation == conversation],
                "refused": self.refused.get(conversation, []), "dropped": self.dropped.get(conversation, [])}

    def stop(self, conversation: str) -> Stream | None:
        """The user presses Stop on the conversation's open stream; None when none is open."""
        now = self._clock()
        stream = next((stream for stream in self.streams.values()
                       if stream.conversation == conversation and stream.open(now)), None)
        if stream is not None:
            stream.stopped = True
        return stream

    def check(self, conversation: str, conversation_type: str, activity: dict[str, Any], new_id: str) -> Accepted:
        """Take or refuse `activity` (which has a `streaminfo` entity) as Teams would; `new_id` names a new stream.
        A refusal is remembered for the conversation's report, then raised."""
        try:
            accepted = self._check(conversation, conversation_type, activity, new_id)
        except StreamRefused as refusal:
            self.refused.setdefault(conversation, []).append(
                {"status": refusal.status, "code": refusal.code, "message": refusal.message, "activity": activity})
            raise
        if accepted.dropped:
            self.dropped.setdefault(conversation, []).append(activity)
        return accepted

    def _check(self, conversation: str, conversation_type: str, activity: dict[str, Any], new_id: str) -> Accepted:
        info = stream_info(activity) or {}
        if conversation_type not in STREAMING_CONVERSATIONS:
            raise StreamRefused(400, "BadArgument", NOT_ENABLED)
        kind, stream_type = activity.get("type"), info.get("streamType", "streaming")
        text = str(activity.get("text") or "")
        if stream_type not in ("informative", "streaming", "final"):
            raise _bad(f"streamType must be informative, streaming or final, not {stream_type!r}")
        if kind == "typing" and stream_type == "final":
            raise _bad("Only start streaming and continue streaming types are allowed as a typing activity")
        if kind == "message" and stream_type != "final":
            raise _bad("A message activity ends a stream: its streamType must be final")
        if kind not in ("typing", "message"):
            raise _bad("Streaming activities are typing activities, and the final one a message")
        if kind == "typing" and activity.get("attachments"):
            raise _bad("Attachments are allowed only in the final streamed message")
        if stream_type == "informative" and len(text) > MAX_INFORMATIVE_CHARACTERS:
            raise _bad(f"Informative updates must not be more than {MAX_INFORMATIVE_CHARACTERS} characters")
        now, stream_id, sequence = self._clock(), info.get("streamId"), info.get("streamSequence")
        if not stream_id:
            return self._start(conversation, activity, info, new_id, now)
        stream = self.streams.get(stream_id)
        if stream is None or stream.conversation != conversation:
            raise _bad(f"No stream {stream_id!r} in this conversation")
        if stream.stopped:
            raise StreamRefused(403, "ContentStreamNotAllowed", CANCELED_BY_USER)
        if stream.completed:
            raise StreamRefused(403, "ContentStreamNotAllowed", COMPLETED)
        if now - stream.started > MAX_STREAM_SECONDS:
            stream.completed = True
            raise StreamRefused(403, "ContentStreamNotAllowed", TIMED_OUT)
        if now - stream.last_request < MIN_REQUEST_INTERVAL - CLOCK_TOLERANCE:
            raise StreamRefused(429, "TooManyRequests", QUOTA)
        if not text.strip():
            raise _bad("Streaming activities should include text")
        if stream_type == "final":
            if sequence is not None:
                raise _bad("The final streaming message must not set streamSequence")
            if not text.startswith(stream.streamed):
                raise _bad("The final message must keep the streamed content")
            stream.completed, stream.last_request = True, now
            return Accepted(202, stream.id)
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            raise _bad("streamSequence is required on every streaming request but the final one")
        if sequence <= stream.sequence:
            return Accepted(202, stream.id, dropped=True)
        if sequence != stream.sequence + 1:
            raise _bad(f"streamSequence must follow {stream.sequence}: expected {stream.sequence + 1}, got {sequence}")
        if stream_type == "streaming" and not text.startswith(stream.streamed):
            raise StreamRefused(403, "ContentStreamNotAllowed",
                                "Request streamed content should contain the previously streamed content")
        stream.sequence, stream.last_request = sequence, now
        if stream_type == "streaming":
            stream.streamed = text
        else:
            stream.informative.append(text)
        return Accepted(202, stream.id)

    def _start(self, conversation: str, activity: dict[str, Any], info: dict[str, Any], new_id: str,
               now: float) -> Accepted:
        if activity.get("type") != "typing":
            raise _bad("streamId is required after the first streaming request")
        if not (activity.get("text") or "").strip():
            raise _bad("Start streaming activities should include text")
        if info.get("streamSequence") != 1:
            raise _bad("The first streaming request must have streamSequence 1")
        if any(stream.conversation == conversation and stream.open(now) for stream in self.streams.values()):
            raise StreamRefused(403, "ContentStreamNotAllowed", NOT_ALLOWED)
        text = activity["text"]
        informative = info.get("streamType") == "informative"
        self.streams[new_id] = Stream(new_id, conversation, activity.get("replyToId"), now, now,
                                      streamed="" if informative else text,
                                      informative=[text] if informative else [])
        return Accepted(201, new_id)


def _bad(message: str) -> StreamRefused:
    return StreamRefused(400, "BadRequest", message)
