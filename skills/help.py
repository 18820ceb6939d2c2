"""`/help`, the welcome on install, and the answer to anything the agent does not understand."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.common import card_activity
from cards.help import help_card, help_text

WELCOME = "Hi! I bring your Microsoft 365 profile, calendar and files into this chat."


def register(app: AgentApplication[TurnState]) -> None:
    @app.conversation_update("membersAdded")
    async def welcome(context: TurnContext, _state: TurnState) -> None:
        """Once, when the agent is installed (it is among those added), or when a user opens a personal chat with it;
        never for every person who joins a team or group chat."""
        activity = context.activity
        added = {member.id for member in activity.members_added or []}
        agent_added = activity.recipient is not None and activity.recipient.id in added
        kind = activity.conversation.conversation_type if activity.conversation else None
        if agent_added or (added and kind in (None, "personal")):
            await context.send_activity(card_activity(help_card(WELCOME), help_text(WELCOME)))

    @app.message()
    async def help_reply(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(card_activity(help_card(), help_text()))
