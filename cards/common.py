"""Pieces every card shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"

Card = dict[str, Any]
Element = dict[str, Any]


def adaptive_card(body: list[Element], actions: list[Element] | None = None) -> Card:
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": body}
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full"}
    return card


def text_block(text: str, **props: Any) -> Element:
    """A wrapping TextBlock: user data (names, subjects) must never be cut off mid-word."""
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def command_button(title: str, command: str, data: dict[str, Any] | None = None) -> Element:
    """A button that sends `command` as if the user typed it (imBack in Teams, plain data elsewhere).

    Teams posts only the imBack text, so `data` (extra keys) reaches the agent on other channels only."""
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {"command": command, **(data or {}), "msteams": {"type": "imBack", "value": command}},
    }


def more_button(command: str, page: Mapping[str, Any]) -> Element:
    """"More": the next page, whose position (`page`, from the page model's `more()`) the button carries. No imBack,
    so Teams too posts the data (in `activity.value`).

    The data comes back from the client: the skill checks it, and a link in it is followed only to the Graph host."""
    return {"type": "Action.Submit", "title": "More", "data": {"command": command, **page}}


def open_url_button(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


class SentCard(dict[str, Any]):
    """A card as it is sent. The SDK deep-copies every activity it sends (`TurnContext.send_activities`), which took
    twice as long as building the card; nothing changes a card once it is in an activity, so its copy is itself."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SentCard:
        return self


def card_activity(card: Card, fallback_text: str) -> Activity:
    """A message with the card; channels that show no cards show `fallback_text` instead (the card's own
    `fallbackText`), and notifications show it as the summary."""
    return Activity(
        type=ActivityTypes.message,
        summary=fallback_text,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE,
                                content=SentCard({**card, "fallbackText": fallback_text}))],
    )
