"""Copilot Studio's skill actions: `GetProfile`, `GetCalendar` and `GetFiles` events, each answered with exactly one
`endOfConversation` whose `value` is the result (or `{"error", "message"}`), as `skills/manifest.py` describes.

A skill's caller cannot show an OAuthCard, so no sign-in is started here. The token is one had without prompting
(`auth.stored_token`): the Bot Service token service's stored token for the user (`GRAPH`: signed in through Teams
before), or for Copilot Studio's connector the caller's bearer exchanged on-behalf-of (`CONNECTOR`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import ClientError
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, RouteRank, TurnContext, TurnState

from auth import sign_in
from auth.connections import is_connector_request
from graph.errors import GraphError, MissingPermission, SignInRequired
from turn.faults import ServiceBusy, ServiceUnavailable

from .catalog import CommandRecord, SkillAction
from .commands import CONNECTOR_HANDLER, TEAMS_HANDLER, Services, end_of_conversation
from .manifest import actions, to_json

log = logging.getLogger(__name__)

SIGN_IN_REQUIRED = {"error": "signInRequired", "message": "Sign in first: open the agent in Teams and type /me."}
CONNECTOR_TOKEN_REFUSED = {"error": "signInRequired", "message": sign_in.CONNECTOR_TOKEN_REFUSED}
TEAMS_EVENT_PREFIX = "application/vnd.microsoft."
"""Teams' own events (meeting start, read receipts, …): not skill calls, left to other routes or unanswered."""


def register(app: AgentApplication[TurnState], services: Services, commands: Iterable[CommandRecord]) -> None:
    """Answer every event but Teams' own, last, so any more specific event route registered elsewhere wins."""
    by_name = actions(commands)

    async def answer(context: TurnContext, _state: TurnState) -> None:
        name = context.activity.name or ""
        action = by_name.get(name)
        if action is None:
            value = {"error": "unknownAction", "message": f"This skill has no action {name!r}; "
                                                          f"it answers {', '.join(by_name)}."}
        else:
            value = await _run(context, services, action)
        await context.send_activity(end_of_conversation(value))

    def selects(context: TurnContext) -> bool:
        activity = context.activity
        return activity.type == ActivityTypes.event and not (activity.name or "").startswith(TEAMS_EVENT_PREFIX)

    app.add_route(selects, answer, rank=RouteRank.LAST)


async def _run(context: TurnContext, services: Services, action: SkillAction) -> dict[str, Any]:
    value = context.activity.value if context.activity.value is not None else {}
    if not isinstance(value, dict):
        return {"error": "invalidValue", "message": f"{action.name} takes a JSON object as its value."}
    problem = invalid_value(action, value)
    if problem:
        return {"error": "invalidValue", "message": problem}
    connector = is_connector_request(context)
    try:
        token = await _user_token(context, services, connector)
    except ClientError:
        return {"error": "unavailable", "message": "The Bot Service token service did not answer; try again."}
    if not token:
        return CONNECTOR_TOKEN_REFUSED if connector else SIGN_IN_REQUIRED
    try:
        return to_json(await action.fetch(services.graph, token, value))
    except GraphError as error:
        log.info("%s failed: %s", action.name, type(error).__name__)
        if isinstance(error, SignInRequired) and connector:
            return CONNECTOR_TOKEN_REFUSED  # nothing of ours to sign out: Copilot Studio holds the connection
        if isinstance(error, SignInRequired):
            await services.auth.sign_out_everywhere(context)  # the stored token is dead: the next /me signs in again
        return error_value(error)


async def _user_token(context: TurnContext, services: Services, connector: bool) -> str | None:
    """A stored or exchanged token, never a sign-in prompt."""
    return await services.auth.stored_token(context, CONNECTOR_HANDLER if connector else TEAMS_HANDLER)


def invalid_value(action: SkillAction, value: dict[str, Any]) -> str | None:
    """Why `value` does not fit the action's `value` schema (the one the manifest publishes), or None."""
    error = best_match(Draft7Validator(action.value).iter_errors(value))
    if error is None:
        return None
    where = ".".join(str(part) for part in error.path)
    return f"{action.name}: {where + ': ' if where else ''}{error.message}."


def error_value(error: GraphError) -> dict[str, Any]:
    """The `value` for a Graph failure: a kind to branch on and a message to show."""
    if isinstance(error, SignInRequired):
        return SIGN_IN_REQUIRED
    if isinstance(error, MissingPermission):
        return {"error": "missingPermission", "message": str(error), "permission": error.permission}
    if isinstance(error, ServiceBusy):
        return {"error": "busy", "message": str(error)} | (
            {"retryAfter": error.retry_after} if error.retry_after is not None else {})
    if isinstance(error, ServiceUnavailable):
        return {"error": "unavailable", "message": str(error)}
    return {"error": "graphError", "message": str(error)}
