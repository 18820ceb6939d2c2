"""Progress while a command works, the way each surface shows it, and the answer that ends it.

Teams streams bot messages only in one-on-one chats, and Microsoft 365 Copilot (the `msteams` channel with the
`COPILOT` sub-channel) streams too ("Stream bot messages",
https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux): there the progress is an informative update
sent through the SDK's `StreamingResponse` (a `typing` activity with a `streaminfo` entity, `streamType: informative`,
`streamSequence: 1`), and the answer is the stream's final message carrying the card. Group chats, channels and Copilot
Studio get a typing indicator, then the answer as a plain message.

`StreamingResponse` paces its sends one second apart (Teams throttles a stream to one request a second), numbers
them and puts the stream id on each after the first. Two things it leaves to us:
- a card-only final message would say "end stream response" (the final needs text), so the answer's first line of
  fallback text is streamed as the final message's text;
- when Teams refuses a stream with a 403 it drops the answer, taking it for the user's Stop button. Only a stop by the
  user ("Content stream was cancelled by user.") means no answer is wanted; any other refusal (say a second stream in
  the same chat while one is open: Teams allows one at a time) gets the answer as a plain message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from microsoft_agents.activity import Activity, ActivityTypes, Channels, ResourceResponse
from microsoft_agents.hosting.core import TurnContext

log = logging.getLogger(__name__)

COPILOT_SUB_CHANNEL = "copilot"
"""`Channels.m365_copilot` is `msteams:COPILOT`; the SDK compares sub-channels without case."""
STREAMING_CONVERSATIONS = frozenset({"personal"})
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


async def show_progress(context: TurnContext, text: str) -> None:
    """Tell the user the agent is working: an informative update where streams are shown, else a typing indicator."""
    if not streams(context):
        await context.send_activity(Activity(type=ActivityTypes.typing))
        return
    watch = _StreamWatch()
    context.on_send_activities(watch)
    context.turn_state[_STREAM_KEY] = watch
    context.streaming_response.queue_informative_update(text)


async def answer(context: TurnContext, activity: Activity) -> None:
    """Send the turn's answer: the open stream's final message, or a plain message when nothing streamed."""
    watch = context.turn_state.pop(_STREAM_KEY, None)
    if not isinstance(watch, _StreamWatch):
        await context.send_activity(activity)
        return
    stream = context.streaming_response
    stream.set_attachments(list(activity.attachments or []))
    stream.queue_text_chunk(_final_text(activity))
    await stream.end_stream()
    if watch.answered or (watch.refusal and CANCELLED_BY_USER in watch.refusal.lower()):
        return
    log.warning("the stream was refused (%s); answering with a plain message", watch.refusal or "no final message")
    await context.send_activity(activity)


def _final_text(activity: Activity) -> str:
    """The final message's text: the answer's text, else the first line of its cards' fallback text."""
    text = activity.text or activity.summary or ""
    return text.strip().splitlines()[0] if text.strip() else "Done."


SendNext = Callable[[], Awaitable[list[ResourceResponse]]]


class _StreamWatch:
    """Sees the turn's sends: whether a message (the final one) got through, and why the channel refused one."""

    def __init__(self) -> None:
        self.answered = False
        self.refusal: str | None = None

    async def __call__(self, _context: TurnContext, activities: list[Activity], send: SendNext
                       ) -> list[ResourceResponse]:
        try:
            responses = await send()
        except Exception as error:
            self.refusal = str(error)
            raise
        self.answered |= any(activity.type == ActivityTypes.message for activity in activities)
        return responses
