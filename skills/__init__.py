"""The agent's commands: one module each, with a `register(app, services)` that adds its routes."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnState

from . import calendar, files, logout, me, skill_actions, unhandled
from . import help as help_skill
from .commands import Services, on_turn_error, register_service_principal_answer


def register_all(app: AgentApplication[TurnState], services: Services) -> None:
    """Register every command; help answers any message no other command took, and `unhandled` the rest."""
    register_service_principal_answer(app)
    me.register(app, services)
    calendar.register(app, services)
    files.register(app, services)
    logout.register(app, services)
    skill_actions.register(app, services)
    help_skill.register(app)
    unhandled.register(app)
    app.error(on_turn_error)
