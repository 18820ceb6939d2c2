"""The agent's commands: one record each (`skills/catalog.py`), routed from their records; `/logout`, `/help` and
Copilot Studio's skill actions have a `register(app, …)` of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from microsoft_agents.hosting.core import AgentApplication, TurnState

from . import help as help_skill
from . import logout, skill_actions, unhandled
from .catalog import COMMANDS, CommandRecord
from .commands import Services, on_turn_error, register_command, register_service_principal_answer
from .intents import Vocabulary
from .intents.typos import common_english


def register_all(app: AgentApplication[TurnState], services: Services,
                 commands: Sequence[CommandRecord] = COMMANDS) -> None:
    """Register every command; help answers any message no other command took, and `unhandled` the rest."""
    register_service_principal_answer(app)
    vocabulary = Vocabulary.of(commands)  # plain words reach every command given, by its record's cues
    for record in commands:
        if record.fetch is not None:
            register_command(app, services, record, vocabulary)
    logout.register(app, services, vocabulary)
    skill_actions.register(app, services, commands)
    help_skill.register(app, commands)
    unhandled.register(app)
    app.error(on_turn_error)


async def warm_up() -> None:
    """Load the common English words plain words are read with (a fifth of a second) off the event loop, before the
    first message needs them."""
    await asyncio.to_thread(common_english)
