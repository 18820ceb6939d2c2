"""`/help`, the welcome on install, and the answer to anything the agent does not understand."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.common import card_activity
from cards.help import help_card, help_text

WELCOME = "Hi! I bring your Microsoft 365 profile, calendar and files into this chat."


def register(app: AgentApplication[TurnState]) -> None:
    @app.conversation_update("membersAdded")
    async def welcome(context: TurnContext, _state: TurnState) -> None:
        recipient_id = context.activity.recipient.id if context.activity.recipient else None
        added = context.activity.members_added or []
        if any(member.id != recipient_id for member in added):
            await context.send_activity(card_activity(help_card(WELCOME), help_text(WELCOME)))

    @app.message()
    async def help_reply(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(card_activity(help_card(), help_text()))
