"""`/logout`: sign out of every Teams connection; on Copilot Studio's connector there is nothing to sign out."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from auth.connections import is_connector_request
from auth.sign_in import SIGN_OUT_COMMANDS

from .commands import Services, parse_command
from .intents import DEFAULT, Vocabulary

SIGNED_OUT = "You're signed out of Microsoft 365 in this chat. Ask for /me, /calendar or /files to sign in again."
CONNECTOR_NOTE = (
    "There is nothing to sign out here: Copilot Studio passes me your Microsoft 365 token for each request and "
    "I don't keep it. To disconnect, remove the connection in Copilot Studio."
)


def register(app: AgentApplication[TurnState], services: Services, vocabulary: Vocabulary = DEFAULT) -> None:
    def selects(context: TurnContext) -> bool:
        command = parse_command(context, vocabulary)
        return command is not None and command.name in SIGN_OUT_COMMANDS

    async def logout(context: TurnContext, _state: TurnState) -> None:
        if is_connector_request(context):
            await context.send_activity(CONNECTOR_NOTE)
            return
        await services.auth.sign_out_everywhere(context)
        await context.send_activity(SIGNED_OUT)

    app.add_route(selects, logout)
