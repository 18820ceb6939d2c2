"""Pieces every card shares."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"

Card = dict[str, Any]


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": body}
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full"}
    return card


def command_button(title: str, command: str) -> dict[str, Any]:
    """A button that sends `command` as if the user typed it (imBack in Teams, plain data elsewhere)."""
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {"command": command, "msteams": {"type": "imBack", "value": command}},
    }


def card_activity(card: Card, fallback_text: str) -> Activity:
    """A message with the card; channels that show no cards show `fallback_text` instead (the card's own
    `fallbackText`), and notifications show it as the summary."""
    return Activity(
        type=ActivityTypes.message,
        summary=fallback_text,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content={**card, "fallbackText": fallback_text})],
    )
