"""`/me`: the user's profile card, from one Graph round trip."""

from __future__ import annotations

from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.common import card_activity
from cards.profile import profile_card, profile_text
from graph.profile import get_profile

from .commands import Command, Services, register_command


def register(app: AgentApplication[TurnState], services: Services) -> None:
    async def me(_context: TurnContext, _command: Command, token: str) -> Activity:
        profile = await get_profile(services.graph, token)
        return card_activity(profile_card(profile), profile_text(profile))

    register_command(app, services, "me", me, working="Reading your profile…")
