"""`/files [query]`: the most recently changed documents, or a search, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.common import card_activity
from cards.files import files_card, files_text
from graph.files import page_start, recent_files, search_files

from .commands import Command, Services, register_command


def register(app: AgentApplication[TurnState], services: Services) -> None:
    async def files(_context: TurnContext, command: Command, token: str) -> Activity:
        start = page_start(command.value)
        if command.args:
            page = await search_files(services.graph, token, command.args, start)
        else:
            page = await recent_files(services.graph, token, start)
        now = datetime.now(UTC)
        return card_activity(files_card(page, now), files_text(page, now))

    register_command(app, services, "files", files, working="Looking through your files…")
