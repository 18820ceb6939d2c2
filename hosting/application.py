"""The SDK's `AgentApplication`, whose turns end quietly on outside faults.

A `ServiceFault` (a service was busy, failing or slow) or `ReplyUndelivered` is something to tell the user about, or
that nobody can be told about, not a bug: the SDK would log each with a full traceback before calling the turn's error
handlers. Here they go to the error handlers directly, which log one line; anything else is the SDK's as before.
"""

from __future__ import annotations

from typing import TypeVar

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from turn.faults import ReplyUndelivered, ServiceFault

StateT = TypeVar("StateT", bound=TurnState)


class FaultAwareApplication(AgentApplication[StateT]):
    async def _on_error(self, context: TurnContext, err: Exception) -> None:
        if not isinstance(err, ServiceFault | ReplyUndelivered):
            await super()._on_error(context, err)
            return
        for handler in self._turn_error_handlers:
            await handler(context, err)
