"""Copilot Studio's `deliveryMode: "stream"`, answered as Microsoft's .NET hosting does.

The answer is `200 text/event-stream`: every activity the turn sends is written and flushed as
`event: activity` / `data: <activity JSON>` the moment it is sent, and an invoke ends with `event: invokeResponse` /
`data: <InvokeResponse JSON>` when its response has a body.

SDK 1.9.0 creates no connector client for a stream request, then fails on the first reply ("Unable to extract
ConnectorClient"). Here the turn gets a connector client whose sends write to the stream, so every send path of the
SDK (the turn's sends, its typing timer, error handlers) streams, and nothing is POSTed to the serviceUrl.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes, DeliveryModes, InvokeResponse, ResourceResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import Agent, ChannelAdapter, TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.attachments_base import AttachmentsBase
from microsoft_agents.hosting.core.connector.conversations_base import ConversationsBase
from microsoft_agents.hosting.core.connector.mcs.mcs_connector_client import MCSAttachments, MCSConversations

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
"""What the user is told when a turn failed for a reason of the agent's own (one the user cannot act on)."""


def is_stream_request(activity: Activity) -> bool:
    """Whether the (admitted) activity asks for stream delivery."""
    return activity.delivery_mode == DeliveryModes.stream


class EventStream:
    """The `text/event-stream` answer to one request. A caller that went away ends the writing, not the turn."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response: web.StreamResponse | None = None
        self._gone = False

    @property
    def opened(self) -> bool:
        return self._response is not None

    async def open(self) -> None:
        response = web.StreamResponse(headers={"Cache-Control": "no-cache"})
        response.content_type = EVENT_STREAM
        await response.prepare(self._request)
        self._response = response

    async def send(self, event: str, data: dict[str, Any]) -> None:
        if self._response is None or self._gone:
            return
        try:
            await self._response.write(f"event: {event}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())
        except ConnectionResetError:
            self._gone = True
            log.info("the caller closed the event stream; the turn's later replies are dropped")

    async def close(self) -> web.StreamResponse:
        assert self._response is not None, "close() of a stream that was never opened"
        if not self._gone:
            await self._response.write_eof()
        return self._response


class _StreamConversations(MCSConversations):
    """Copilot Studio's connector operations (send and reply only), written to the event stream instead of POSTed."""

    def __init__(self, stream: EventStream) -> None:  # no HTTP session: nothing here goes over the network
        self._stream = stream

    async def send_to_conversation(self, conversation_id: str, activity: Activity, **kwargs: Any) -> ResourceResponse:
        """Streams the reply under a new id, as a channel gives each activity it accepts one."""
        activity.id = activity.id or str(uuid.uuid4())
        await self._stream.send("activity", activity.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return ResourceResponse(id=activity.id)


class _StreamConnectorClient(ConnectorClientBase):
    def __init__(self, stream: EventStream) -> None:
        self._conversations = _StreamConversations(stream)
        self._attachments = MCSAttachments()

    @property
    def base_uri(self) -> str:
        return ""

    @property
    def attachments(self) -> AttachmentsBase:
        return self._attachments

    @property
    def conversations(self) -> ConversationsBase:
        return self._conversations

    async def close(self) -> None:
        """Nothing to release: the stream is closed by the request handler once the turn is over."""


class _StreamedTurn:
    """The agent, run with the event stream as the turn's connector client."""

    def __init__(self, agent: Agent, stream: EventStream) -> None:
        self._agent = agent
        self._stream = stream

    async def on_turn(self, context: TurnContext) -> None:
        await self._stream.open()
        context.services.set(ConnectorClientBase, _StreamConnectorClient(self._stream))
        try:
            await self._agent.on_turn(context)
        except Exception:  # the stream is already 200: the caller gets an apology, the log gets the details
            log.exception("a streamed turn failed")
            await context.send_activity(APOLOGY)
        if context.activity.type == ActivityTypes.invoke:
            await self._send_invoke_response(context)

    async def _send_invoke_response(self, context: TurnContext) -> None:
        reply = context.turn_state.get(ChannelAdapter.INVOKE_RESPONSE_KEY)  # where the SDK keeps the invoke's answer
        if not isinstance(reply, Activity):
            return
        response = InvokeResponse.model_validate(reply.value)
        if response.body is not None:
            await self._stream.send("invokeResponse", response.model_dump(mode="json", by_alias=True))


async def stream_agent_process(request: web.Request, agent: Agent, adapter: CloudAdapter) -> web.StreamResponse | None:
    """Run a stream-delivery request through the SDK's adapter (its checks, auth identity and pipeline) as a stream.

    A request the SDK refuses before the turn starts (an activity without conversation, say) keeps the SDK's answer.
    """
    stream = EventStream(request)
    response = await adapter.process(request, _StreamedTurn(agent, stream))
    return await stream.close() if stream.opened else response
