"""The SDK's `CloudAdapter` with one deadline per turn, and no error text of its own.

Every turn (an incoming activity, or a replayed one after sign-in) runs under `turn.deadline.turn`, so all its
outbound calls share one deadline, and is cut off shortly after it as a last resort. When a turn's own error handling
fails too, the SDK's adapter would show the user "Exception caught : …" (its internal exception) and print a
traceback, or let the request end in a 500; here that is one log line, and the channel gets its normal answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from turn import deadline
from turn.faults import ReplyUndelivered, ServiceFault

from .turn_context import FreedTurnContext

log = logging.getLogger(__name__)

CUT_OFF_GRACE = 1.0
"""Seconds past the turn's deadline before the turn itself is cancelled (its calls have their own deadlines)."""

Callback = Callable[[TurnContext], Awaitable[Any]]


class TurnAdapter(CloudAdapter):
    def __init__(self, *, turn_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.turn_seconds = turn_seconds
        self.on_turn_error = self._on_turn_error

    async def process_activity(self, claims_identity: ClaimsIdentity, activity: Activity,
                               callback: Callback) -> InvokeResponse | None:
        return await self._bounded(activity, super().process_activity(claims_identity, activity, callback))

    async def process_proactive(self, claims_identity: ClaimsIdentity, continuation_activity: Activity,
                                audience: str, callback: Callback) -> Any:
        return await self._bounded(continuation_activity, super().process_proactive(
            claims_identity, continuation_activity, audience, callback))

    def _create_turn_context(self, claims_identity: ClaimsIdentity, oauth_scope: str | None = None,
                             activity: Activity | None = None) -> TurnContext:
        """What the SDK's adapter builds, as a `FreedTurnContext`: a finished turn is freed at once."""
        context = FreedTurnContext(self, activity, claims_identity)
        context.turn_state[self.OAUTH_SCOPE_KEY] = oauth_scope
        context.turn_state[self.AGENT_IDENTITY_KEY] = claims_identity  # as the SDK's adapter sets it
        return context

    async def _bounded(self, activity: Activity, turn: Awaitable[Any]) -> Any:
        """`turn` under a fresh deadline; a fault before the turn could start (the agent's own Bot Service token could
        not be had) or a turn past its deadline ends here, in one log line, since no reply can be sent."""
        with deadline.turn(self.turn_seconds):
            try:
                async with asyncio.timeout(self.turn_seconds + CUT_OFF_GRACE):
                    return await turn
            except (ServiceFault, ReplyUndelivered) as fault:
                log.warning("%s turn dropped: %s (%s)", activity.type, type(fault).__name__, fault)
            except TimeoutError:
                log.warning("%s turn cut off after %g s", activity.type, self.turn_seconds + CUT_OFF_GRACE)
        return None

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """What the agent's own error handling let through: logged, never shown (the user got what could be sent)."""
        if isinstance(error, ServiceFault | ReplyUndelivered):
            log.warning("%s turn ended early: %s (%s)", context.activity.type, type(error).__name__, error)
        else:
            log.error("%s turn failed: %s", context.activity.type, type(error).__name__, exc_info=error)
