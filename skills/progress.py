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
- progress is best effort: an update the channel refuses must not fail the turn, yet the SDK raises it in a
  background task nobody awaits. The guard logs it instead, and a stream that never started (its first update
  refused, say a second stream in a chat that has one open: Teams allows one at a time) ends with the answer as a
  plain message, since a final message without a stream id is no stream. An update the channel did not take at all
  (`ReplyUndelivered`, retries included) once the answer is being sent ends the turn as any undelivered reply does:
  `end_stream` awaits that task, and the turn's time is spent;
- when Teams refuses the final message with a 403 the SDK drops the answer, taking it for the user's Stop button. Only
  a stop by the user ("Content stream was cancelled by user.") means no answer is wanted; after any other refusal the
  answer goes as a plain message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from microsoft_agents.activity import Activity, ActivityTypes, Channels, EntityTypes, ResourceResponse
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.app.streaming import StreamingResponse

from hosting.faults import ReplyUndelivered

log = logging.getLogger(__name__)

COPILOT_SUB_CHANNEL = "copilot"
"""`Channels.m365_copilot` is `msteams:COPILOT`; the SDK compares sub-channels without case."""
STREAMING_CONVERSATIONS = frozenset({"personal"})
PROGRESS_DELAY = 0.4
"""Seconds of work before progress shows. A quicker answer comes at once, alone: Teams paces a stream at one request a
second, so a streamed answer comes a second after its informative update at the earliest. A little under the SDK's
half-second typing delay, so where a chat streams, the informative update tends to come before a bare typing one."""
CANCELLED_BY_USER = "cancelled by user"
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
    guard.ending = True
    stream = context.streaming_response
    stream.set_attachments(list(activity.attachments or []))
    stream.queue_text_chunk(_final_text(activity))
    await stream.end_stream()
    if guard.answered or CANCELLED_BY_USER in (guard.refusal or "").lower():
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
    """On the turn's sends while a stream is open (see the module docstring): keeps a refused update from failing
    the turn, sends the final message of a stream that never started as a plain message, and notes whether the answer
    got through and why the channel refused a send."""

    def __init__(self) -> None:
        self.timer: asyncio.TimerHandle | None = None
        self.begun = False
        """Whether the informative update was queued: the answer then ends the stream."""
        self.started = False
        self.ending = False
        """Set when the answer is being sent: the SDK's `end_stream` now awaits the task that sends the updates."""
        self.answered = False
        self.refusal: str | None = None

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
        try:
            responses = await send()
        except Exception as error:
            self.refusal = str(error)
            delivery_failed = isinstance(error, ReplyUndelivered)  # the channel took nothing, retries included
            if activities and all(kind in ("informative", "streaming") for kind in kinds) and not (
                    self.ending and delivery_failed):
                log.warning("progress was not shown: %s", type(error).__name__)
                return []
            raise
        self.started |= any(kind in ("informative", "streaming") for kind in kinds)
        self.answered |= any(activity.type == ActivityTypes.message for activity in activities)
        return responses
