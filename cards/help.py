"""The help and welcome cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .common import Card, Element, adaptive_card, command_button, text_block


@dataclass(frozen=True)
class CommandHelp:
    """A command's line on the card: `/calendar`, what it does, and how it is typed (`/calendar tomorrow`)."""

    command: str
    summary: str
    example: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A command offered as a button: `label` in the user's words, `command` what the button sends."""

    label: str
    command: str


PLAIN_WORDS = (
    "Or just ask, for example: “am I free this afternoon?”, “meetings next week”, “find the budget spreadsheet”, "
    "“files I changed recently”, “who's my manager?” or “sign me out”. For your calendar I understand today (also "
    "this morning, afternoon or evening), tomorrow, this week or a weekday (the seven days from today), and next week "
    "or coming up (the seven days from now)."
)
"""What `skills/intents.py` understands, said to the user."""


def help_card(intro: str = "Here is what I can do:", suggestion: Suggestion | None = None, *,
              commands: Sequence[CommandHelp]) -> Card:
    """The command list; with a `suggestion`, the one thing the agent guesses the user meant, first."""
    facts = [
        {"title": entry.command, "value": entry.summary + (f" ({entry.example})" if entry.example else "")}
        for entry in commands
    ]
    body: list[Element] = [{"type": "TextBlock", "text": intro, "wrap": True, "weight": "Bolder", "size": "Medium"}]
    if suggestion:
        body.append(text_block(f"Did you mean “{suggestion.label}”?"))
    body += [{"type": "FactSet", "facts": facts}, text_block(PLAIN_WORDS, isSubtle=True, spacing="Medium")]
    offered = [(suggestion.label, suggestion.command)] if suggestion else []
    offered += [(title, command) for title, command in
                (("My profile", "/me"), ("My day", "/calendar"), ("My files", "/files"))
                if not suggestion or command != suggestion.command]
    return adaptive_card(body, [command_button(title, command) for title, command in offered])


def help_text(intro: str = "Here is what I can do:", suggestion: Suggestion | None = None, *,
              commands: Sequence[CommandHelp]) -> str:
    lines = [intro, *([f"Did you mean “{suggestion.label}” ({suggestion.command})?"] if suggestion else []),
             *(f"- {entry.command}: {entry.summary}" for entry in commands), PLAIN_WORDS]
    return "\n".join(lines)


def question_card(question: str, choices: list[Suggestion]) -> Card:
    """A question with one button per reading, when what the user asked could mean either."""
    return adaptive_card([text_block(question, weight="Bolder")],
                         [command_button(choice.label, choice.command) for choice in choices])


def question_text(question: str, choices: list[Suggestion]) -> str:
    return "\n".join([question, *(f"- {choice.label}: {choice.command}" for choice in choices)])
