"""`/help`, the welcome when the agent joins a team or group chat, and the answer to anything no command took: the
help card, with one suggestion of what the user may have meant, or a question when plain words could mean two things
(`skills/intents/`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.common import card_activity
from cards.help import Suggestion, help_card, help_text, question_card, question_text

from . import phrases
from .catalog import CommandRecord
from .commands import typed_text
from .intents import NotUnderstood, Unclear, Understood, Vocabulary, understand

WELCOME = "Hi! I bring your Microsoft 365 profile, calendar and files into this chat."
NOT_UNDERSTOOD = "Sorry, I didn't get that."
CANNOT = "Sorry, I can't do that: I only read your profile, calendar and files."
WHICH = "Which did you mean?"
STARTER_CONVERSATION = "personal"
"""Where the prompt starters show as cards, and no welcome is sent: a one-on-one chat."""


def register(app: AgentApplication[TurnState], commands: Sequence[CommandRecord]) -> None:
    lines = [record.help_line for record in commands]
    vocabulary = Vocabulary.of(commands)
    listed_card, listed_text = partial(help_card, commands=lines), partial(help_text, commands=lines)

    @app.conversation_update("membersAdded")
    async def welcome(context: TurnContext, _state: TurnState) -> None:
        """Once, when the agent is added to a team or group chat, where it introduces itself to everyone ("Designing
        your Microsoft Teams bot", https://learn.microsoft.com/microsoftteams/platform/bots/design/bots); never for
        every person who joins. Never in a one-on-one chat, in Teams or Microsoft 365 Copilot: the app's prompt starters
        show there as cards until the first message, for an agent that sends no welcome message ("Highlight agent
        capabilities with prompt starters",
        https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/prompt-starters), and "If your
        bot uses prompt starters, ensure that your bot doesn't send a welcome message" ("Create prompt suggestions",
        https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/prompt-suggestions). Whether a
        welcome hides Microsoft 365 Copilot's conversation starters is not documented: it is a one-on-one chat with
        starters too, so it gets none either."""
        activity = context.activity
        added = {member.id for member in activity.members_added or []}
        agent_added = activity.recipient is not None and activity.recipient.id in added
        kind = activity.conversation.conversation_type if activity.conversation else None
        if agent_added and kind != STARTER_CONVERSATION:
            await context.send_activity(card_activity(listed_card(WELCOME), listed_text(WELCOME)))

    @app.message()
    async def help_reply(context: TurnContext, _state: TurnState) -> None:
        typed = typed_text(context)
        meaning = understand(typed.lstrip("/"), vocabulary) if typed else Understood(phrases.HELP)
        if isinstance(meaning, Unclear):
            choices = [suggestion(choice) for choice in meaning.choices]
            await context.send_activity(card_activity(question_card(WHICH, choices), question_text(WHICH, choices)))
            return
        if meaning == Understood(phrases.HELP):
            await context.send_activity(card_activity(listed_card(), listed_text()))
            return
        # not understood, or an unknown slash command that plain words would have run
        guess = meaning.suggestion if isinstance(meaning, NotUnderstood) else meaning
        offered = suggestion(guess) if guess and guess.name != phrases.HELP else None
        intro = CANNOT if isinstance(meaning, NotUnderstood) and meaning.unsupported else NOT_UNDERSTOOD
        await context.send_activity(card_activity(listed_card(intro, offered), listed_text(intro, offered)))


def suggestion(meaning: Understood) -> Suggestion:
    """A command offered to the user, named in their words (`phrases.SUGGESTIONS`)."""
    command = f"/{meaning.name} {meaning.args}".strip()
    label = phrases.SUGGESTIONS.get((meaning.name, meaning.args))
    if label is None:
        label = f"Find “{meaning.args}”" if meaning.name == phrases.FILES else command
    return Suggestion(label, command)
