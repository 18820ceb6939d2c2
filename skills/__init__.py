"""The agent's commands: one module each, with a `register(app, deps)` that adds its routes."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnState

from . import help as help_skill


def register_all(app: AgentApplication[TurnState]) -> None:
    """Register every command; help is last, since it answers whatever no other command took."""
    help_skill.register(app)
