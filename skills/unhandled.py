"""Activities no command takes: an invoke gets 501, as the SDK's `ActivityHandler` answers an invoke it does not
implement; any other type is ignored, as the Activity protocol asks of a receiver (A2014), without the SDK's
"no route" warning, which would log the activity's text."""

from __future__ import annotations

import logging

from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, RouteRank, TurnContext, TurnState

from auth.sign_in import answer_invoke

log = logging.getLogger(__name__)

NOT_IMPLEMENTED = 501
HANDLED_ELSEWHERE = frozenset({ActivityTypes.message, ActivityTypes.invoke, ActivityTypes.event})
"""Messages go to a command or help, events to the skill actions; invokes get their own answer here."""
MAX_NAME_IN_LOG = 80


def register(app: AgentApplication[TurnState]) -> None:
    """Register last: every other route is more specific."""

    async def not_implemented(context: TurnContext, _state: TurnState) -> None:
        log.info("invoke %r is not implemented", (context.activity.name or "")[:MAX_NAME_IN_LOG])
        await answer_invoke(context, NOT_IMPLEMENTED)

    async def ignore(context: TurnContext, _state: TurnState) -> None:
        log.debug("%r activity ignored", context.activity.type[:MAX_NAME_IN_LOG])

    app.add_route(lambda context: context.activity.type == ActivityTypes.invoke, not_implemented, is_invoke=True,
                  rank=RouteRank.LAST)
    app.add_route(lambda context: context.activity.type not in HANDLED_ELSEWHERE, ignore, rank=RouteRank.LAST)
