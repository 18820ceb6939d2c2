"""Progress while a command works, the way each surface shows it, and the answer that ends it.

Teams streams bot messages only in one-on-one chats, and Microsoft 365 Copilot (the `msteams` channel with the
`COPILOT` sub-channel) streams too ("Stream bot messages",
https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux): there, once the work has taken a moment, the
progress is an informative update sent through the SDK's `StreamingResponse` (a `typing` activity with a `streaminfo`
entity, `streamType: informative`, `streamSequence: 1`), and the answer is the stream's final message carrying the
card. Group chats, channels and Copilot Studio keep the SDK's typing indicator, then get the answer as a plain message.

`StreamingResponse` paces its sends one second apart (Teams throttles a stream to one request a second), numbers
them and puts the stream id on each after the first. What it leaves to us (`_StreamGuard`, on the turn's sends):
- a card-only final message would say "end stream response" (the final needs text), so the answer's first line of
  fallback text is streamed as the final message's text;
- progress is best effort: an update the channel refuses or never takes must not fail the turn, nor cost the answer,
  yet the SDK raises it in a background task nobody awaits, and its `end_stream` raises it again. The guard logs it
  instead, and a stream that never started (its first update refused, say a second stream in a chat that has one
  open: Teams allows one at a time) ends with the answer as a plain message, since a final message without a stream
  id is no stream;
- each streaming request is retried only as the page makes safe (`auth.channel_http`'s `STREAM_START` for the
  request that opens the stream, `STREAM_UPDATE` after it): a start Teams may have taken is never sent again, as it
  would open a second stream. A final message sent again after Teams took it is answered 403 "Content stream is not
  allowed on an already completed streamed message" (the page's error codes): the answer is delivered;
- when the user presses Stop, Teams answers the stream's next request 403 `ContentStreamNotAllowed` "Content stream
  was canceled by user." (the page's spelling; "cancelled" is matched too): the user wants no answer, so nothing more
  is sent for the turn. The SDK takes any Teams 403 for the user's Stop and drops the answer; after any other refusal
  of the final message the answer goes as a plain message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from microsoft_agents.activity import Activity, ActivityTypes, Channels, EntityTypes, ResourceResponse
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.app.streaming import StreamingResponse

from auth.channel_http import REPLY, STREAM_START, STREAM_UPDATE, Retries, retrying
from turn.faults import ReplyUndelivered

log = logging.getLogger(__name__)

COPILOT_SUB_CHANNEL = "copilot"
"""`Channels.m365_copilot` is `msteams:COPILOT`; the SDK compares sub-channels without case."""
STREAMING_CONVERSATIONS = frozenset({"personal"})
PROGRESS_DELAY = 0.4
"""Seconds of work before progress shows. A quicker answer comes at once, alone: Teams paces a stream at one request a
second, so a streamed answer comes a second after its informative update at the earliest. A little under the SDK's
half-second typing delay, so where a chat streams, the informative update tends to come before a bare typing one."""
STOPPED_BY_USER = re.compile(r"cancell?ed by user", re.IGNORECASE)
"""Teams' answer after the user's Stop: "Content stream was canceled by user." (the page's error codes)."""
ALREADY_COMPLETED = "already completed"
"""In Teams' answer to a request for a stream its final message already ended."""
_STREAM_KEY = "progress.stream"


def streams(context: TurnContext) -> bool:
    """Whether progress here is streamed: a one-on-one Teams chat or Microsoft 365 Copilot, where the SDK's
    `StreamingResponse` also agrees the request can stream (not `expectReplies`, not an agentic request)."""
    activity = context.activity
    channel = activity.channel_id
    if channel is None or channel.channel != Channels.ms_teams or not context.streaming_response.is_streaming_channel:
        return False
    in_copilot = (channel.sub_channel or "").lower() == COPILOT_SUB_CHANNEL
    kind = activity.conversation.conversation_type if activity.conversation else None
    return in_copilot or kind in STREAMING_CONVERSATIONS


def start_progress(context: TurnContext, text: str) -> None:
    """Once the work has taken `PROGRESS_DELAY`, an informative update where streams are shown. Elsewhere the SDK's
    own typing indicator shows progress (`AgentApplication`'s typing timer, from half a second on)."""
    if not streams(context):
        return
    guard = _StreamGuard()
    context.on_send_activities(guard)
    context.turn_state[_STREAM_KEY] = guard
    guard.timer = asyncio.get_running_loop().call_later(PROGRESS_DELAY, guard.begin, context.streaming_response, text)


async def answer(context: TurnContext, activity: Activity) -> None:
    """Send the turn's answer: the open stream's final message, or a plain message when nothing streamed."""
    guard = context.turn_state.pop(_STREAM_KEY, None)
    if isinstance(guard, _StreamGuard) and guard.timer is not None:
        guard.timer.cancel()
    if not isinstance(guard, _StreamGuard) or not guard.begun:
        await context.send_activity(activity)
        return
    if guard.stopped:
        return
    stream = context.streaming_response
    stream.set_attachments(list(activity.attachments or []))
    stream.queue_text_chunk(_final_text(activity))
    await stream.end_stream()
    if guard.answered or guard.stopped:
        return
    log.warning("the final streamed message was refused; answering with a plain message")
    await context.send_activity(activity)


def _final_text(activity: Activity) -> str:
    """The final message's text: the answer's text, else the first line of its cards' fallback text."""
    text = activity.text or activity.summary or ""
    return text.strip().splitlines()[0] if text.strip() else "Done."


def _stream_type(activity: Activity) -> str | None:
    info = next((entity for entity in activity.entities or [] if entity.type == EntityTypes.STREAM_INFO), None)
    return getattr(info, "stream_type", None) if info is not None else None


SendNext = Callable[[], Awaitable[list[ResourceResponse]]]


class _StreamGuard:
    """On the turn's sends while a stream is open (see the module docstring): picks each streaming request's retries,
    keeps a refused update from failing the turn, sends the final message of a stream that never started as a plain
    message, and notes whether the answer got through and whether the user pressed Stop."""

    def __init__(self) -> None:
        self.timer: asyncio.TimerHandle | None = None
        self.begun = False
        """Whether the informative update was queued: the answer then ends the stream."""
        self.started = False
        """Whether Teams took a streaming request (and answered with the stream's id)."""
        self.answered = False
        self.stopped = False
        """Whether the user pressed Stop."""

    def begin(self, stream: StreamingResponse, text: str) -> None:
        self.begun = True
        stream.queue_informative_update(text)

    async def __call__(self, _context: TurnContext, activities: list[Activity], send: SendNext
                       ) -> list[ResourceResponse]:
        kinds = [_stream_type(activity) for activity in activities]
        for activity, kind in zip(activities, kinds, strict=True):
            if kind == "final" and not self.started:
                activity.entities = [entity for entity in activity.entities or []
                                     if entity.type != EntityTypes.STREAM_INFO]
        updates = bool(activities) and all(kind in ("informative", "streaming") for kind in kinds)
        final = self.started and "final" in kinds
        try:
            with retrying(self._retries(updates, final)):
                responses = await send()
        except Exception as error:
            refusal = str(error)
            if STOPPED_BY_USER.search(refusal):
                log.info("the user stopped the stream")
                self.stopped = True
                return []
            if updates:
                log.warning("progress was not shown: %s", type(error).__name__)
                return []
            if final and ALREADY_COMPLETED in refusal.lower():  # an earlier attempt was taken, its answer lost
                self.answered = True
                return []
            if final and not isinstance(error, ReplyUndelivered):  # `answer` sends it as a plain message
                return []
            raise
        self.started |= updates
        self.answered |= any(activity.type == ActivityTypes.message for activity in activities)
        return responses

    def _retries(self, updates: bool, final: bool) -> Retries:
        if updates:
            return STREAM_UPDATE if self.started else STREAM_START
        return STREAM_UPDATE if final else REPLY
