"""The help and welcome cards."""

from __future__ import annotations

from dataclasses import dataclass

from .common import Card, adaptive_card, command_button


@dataclass(frozen=True)
class CommandHelp:
    command: str
    summary: str
    example: str | None = None


COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp("/me", "Your profile: title, contact details, manager and presence."),
    CommandHelp("/calendar", "Your meetings, in your time zone.", "/calendar tomorrow · /calendar week"),
    CommandHelp("/files", "Your recently changed files, or a search.", "/files budget"),
    CommandHelp("/logout", "Sign out of Microsoft 365 in this chat."),
    CommandHelp("/help", "This list."),
)


def help_card(intro: str = "Here is what I can do:") -> Card:
    facts = [
        {"title": entry.command, "value": entry.summary + (f" ({entry.example})" if entry.example else "")}
        for entry in COMMANDS
    ]
    body = [
        {"type": "TextBlock", "text": intro, "wrap": True, "weight": "Bolder", "size": "Medium"},
        {"type": "FactSet", "facts": facts},
    ]
    actions = [command_button(title, command) for title, command in
               (("My profile", "/me"), ("My day", "/calendar"), ("My files", "/files"))]
    return adaptive_card(body, actions)


def help_text(intro: str = "Here is what I can do:") -> str:
    lines = [intro, *(f"- {entry.command}: {entry.summary}" for entry in COMMANDS)]
    return "\n".join(lines)
