"""How a command reaches its skill: parsing what the user typed (a command or plain words) or clicked, the two auth
routes, the progress shown while the skill works (`skills/progress.py`), and error replies.

Every command is registered twice from one definition: a connector route (for a request admitted on Copilot Studio's
connector path, ranked first, handler `CONNECTOR`) and a Teams route (handler `GRAPH`); each asks `auth.sign_in` for
the user's token with its handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, EndOfConversationCodes
from microsoft_agents.hosting.core import AgentApplication, RouteRank, TurnContext, TurnState

from auth.connections import is_connector_request, is_service_principal_call
from auth.sign_in import CONNECTOR_TOKEN_REFUSED, AgentAuthorization
from cards.common import card_activity
from cards.errors import error_card, error_text
from graph.client import GraphClient
from graph.errors import GraphError, SignInRequired
from hosting.stream import APOLOGY
from observability import command_span
from turn.faults import ReplyUndelivered, ServiceFault

from . import phrases, progress
from .catalog import Command, CommandRecord, NotTaken
from .intents import DEFAULT, Understood, Vocabulary, understand

log = logging.getLogger(__name__)

TEAMS_HANDLER = "GRAPH"
CONNECTOR_HANDLER = "CONNECTOR"

SERVICE_PRINCIPAL = (
    "This Copilot Studio connection calls me as an app, not as a signed-in person, so there is nobody's Microsoft 365 "
    "data I could show. Ask the agent's maker to set up the connection so that it signs in as the user."
)

_LEADING_MENTIONS = re.compile(r"^\s*(?:<at>.*?</at>\s*)+", re.IGNORECASE | re.DOTALL)
"""The agent's @mention heading a group-chat message, where the SDK found no mention entity to remove it by; a mention
later in the text (`/files <at>Megan</at>`) is the user's argument and stays."""


def parse_command(context: TurnContext, vocabulary: Vocabulary = DEFAULT) -> Command | None:
    """The command in a message: a slash command as typed (`/calendar tomorrow`, `<at>Agent</at> /files budget`) or
    sent by a card button (`value.command`, with the button's other data), else what plain words ask for in the words
    of `vocabulary`'s commands (`Calendar tomorrow`, `what's on my calendar tomorrow?`: `skills/intents/`); None
    when they ask nothing clear."""
    activity = context.activity
    if activity.type != ActivityTypes.message:
        return None
    value = activity.value if isinstance(activity.value, dict) else {}
    button = value.get("command") if isinstance(value.get("command"), str) else None
    text = _LEADING_MENTIONS.sub("", button or activity.text or "").strip()
    if not text:
        return None
    zone = activity.local_timezone
    if button is not None:
        return Command(*typed_command(text), value=value, chat_zone=zone)
    if text.startswith("/"):
        typed = read_typed(text, vocabulary)
        return Command(*typed, value=value, chat_zone=zone) if typed else None
    meaning = understand(text, vocabulary)
    return Command(meaning.name, meaning.args, value, zone) if isinstance(meaning, Understood) else None


def typed_command(text: str) -> tuple[str, str]:
    """A command typed with its slash (`/files budget Q4`, `/cal`: `phrases.SPELLINGS`) or sent by a button: its name
    and its arguments as typed."""
    words = text.split(maxsplit=1)
    name = words[0].lstrip("/").lower()
    return phrases.SPELLINGS.get(name, name), words[1].strip() if len(words) > 1 else ""


_QUOTES = '"“”\''
"""Around a search's words typed with `/files`, the name searched for: the words (`/files "Contoso MSA"`)."""


def read_typed(text: str, vocabulary: Vocabulary = DEFAULT) -> tuple[str, str] | None:
    """A command typed with its slash (`typed_command`), its arguments read in plain words with its name
    (`/calendar for tomorrow pls` is `/calendar tomorrow`) but a search's, taken as typed (`/files "Contoso MSA"`);
    None when they ask for something else than the command (`/me and /files`, `/calendar add lunch 12pm`), which the
    help card answers."""
    name, args = typed_command(text)
    if name == phrases.FILES and args and args.split(maxsplit=1)[0].lower() in phrases.ACTIONS - phrases.ACTION_NOUNS:
        return None  # `/files rm old_draft.docx`: nothing to search for
    if not args or name == phrases.FILES:
        return name, args.strip(_QUOTES) if args[:1] in _QUOTES and args[-1:] in _QUOTES else args
    meaning = understand(f"{name} {args}", vocabulary)
    return (name, meaning.args) if isinstance(meaning, Understood) and meaning.name == name else None


def typed_text(context: TurnContext) -> str:
    """What the user typed, without the agent's leading @mention."""
    return _LEADING_MENTIONS.sub("", context.activity.text or "").strip()


@dataclass(frozen=True)
class Services:
    """What the skills share, built once by the app factory."""

    graph: GraphClient
    auth: AgentAuthorization


def register_command(app: AgentApplication[TurnState], services: Services, record: CommandRecord,
                     vocabulary: Vocabulary = DEFAULT) -> None:
    """Route the record's command on both paths (see the module docstring), typed or asked for in plain words of
    `vocabulary` (that of every command the app has): its `fetch` gets a Graph token for the user, and while it works
    for more than a moment the user sees its `working` text (`Reading your calendar…`) or a typing indicator
    (`skills/progress.py`); its `card` makes the answer."""
    fetch, card = record.fetch, record.card
    assert fetch is not None and card is not None, f"/{record.name} reads no Graph data: it has a route of its own"

    def selects(context: TurnContext) -> bool:
        command = parse_command(context, vocabulary)
        return command is not None and command.name == record.name

    def run_with(handler_id: str) -> Callable[[TurnContext, TurnState], Awaitable[None]]:
        async def route(context: TurnContext, _state: TurnState) -> None:
            command = parse_command(context, vocabulary)
            assert command is not None  # the selector matched
            with command_span(command.name, str(context.activity.channel_id or "")):
                token = await services.auth.sign_in(context, handler_id)
                if token is None:
                    return  # the user was answered: a sign-in card, the pending hint, or why a token is unusable
                progress.start_progress(context, record.working)
                try:
                    reply = card(await fetch(services.graph, token, command))
                except NotTaken as refusal:
                    reply = Activity(type=ActivityTypes.message, text=str(refusal))
                except GraphError as error:
                    await reply_with_error(context, services, error, command, handler_id)
                    return
                await progress.answer(context, reply)

        return route

    # Routes of equal rank come in no set order: a service principal's call is left to its own answer explicitly.
    app.add_route(lambda context: is_connector_request(context) and not is_service_principal_call(context)
                  and selects(context), run_with(CONNECTOR_HANDLER), rank=RouteRank.FIRST)
    app.add_route(lambda context: not is_connector_request(context) and selects(context), run_with(TEAMS_HANDLER))


def register_service_principal_answer(app: AgentApplication[TurnState]) -> None:
    """Copilot Studio's connector calling with a service principal's token gets a plain answer before any route that
    would exchange the token or call Graph: no Entra call, no Graph call."""

    async def answer(context: TurnContext, _state: TurnState) -> None:
        log.info("a Copilot Studio connector call with an app token was answered without Microsoft 365 data")
        if context.activity.type == ActivityTypes.event:
            await context.send_activity(end_of_conversation({"error": "signInRequired", "message": SERVICE_PRINCIPAL}))
        elif context.activity.type == ActivityTypes.message:
            await context.send_activity(SERVICE_PRINCIPAL)

    app.add_route(is_service_principal_call, answer, rank=RouteRank.FIRST)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """What a skill did not handle. A service's fault is told as it is ("… is busy, try again in 30 s"), in one log
    line; anything else is logged for us and the user gets a short apology, never a stack trace. A reply the channel
    would not take ends the turn: nobody can be told. A skill call (an event) still ends with its `endOfConversation`,
    so the caller never waits for one."""
    if isinstance(error, ReplyUndelivered):
        log.warning("turn ended: a reply was not delivered (%s)", error)
        return
    if isinstance(error, ServiceFault):
        log.warning("turn ended by a fault: %s of %s%s", type(error).__name__, error.service, _cause(error))
        message = str(error)
    else:
        log.error("turn failed: %s", type(error).__name__, exc_info=error)
        message = APOLOGY
    try:
        if context.activity.type == ActivityTypes.event:
            await context.send_activity(end_of_conversation({"error": "unavailable", "message": message}))
        else:
            await progress.answer(context, Activity(type=ActivityTypes.message, text=message))  # ends an open stream
    except ReplyUndelivered as undelivered:
        log.warning("the apology was not delivered either (%s)", undelivered)


def _cause(error: Exception) -> str:
    """What the service did, for the log line: the underlying error in short."""
    cause = error.__cause__
    return f" ({type(cause).__name__}: {str(cause).splitlines()[0][:200] if str(cause) else ''})" if cause else ""


async def reply_with_error(context: TurnContext, services: Services, error: GraphError, command: Command,
                           handler_id: str) -> None:
    """The one place a Graph failure becomes a reply. A rejected Teams token is signed out, so asking again signs in."""
    log.info("%s failed: %s", command.name, type(error).__name__)
    if isinstance(error, SignInRequired) and handler_id == CONNECTOR_HANDLER:
        await progress.answer(context, Activity(type=ActivityTypes.message, text=CONNECTOR_TOKEN_REFUSED))
        return
    if isinstance(error, SignInRequired):
        await services.auth.sign_out_everywhere(context)
    typed = f"/{command.name} {command.args}".strip()
    await progress.answer(context, card_activity(error_card(error, typed), error_text(error, typed)))


def end_of_conversation(value: dict[str, Any]) -> Activity:
    """Success carries the result; a failure also says in `text` what to do, for callers that show text."""
    if "error" in value:
        return Activity(type=ActivityTypes.end_of_conversation, code=EndOfConversationCodes.unknown,
                        text=value["message"], value=value)
    return Activity(type=ActivityTypes.end_of_conversation, code=EndOfConversationCodes.completed_successfully,
                    value=value)
