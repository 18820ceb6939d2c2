"""The schema harness itself: it must catch what Teams would refuse, or every card test passes for nothing."""

from __future__ import annotations

from cards.common import adaptive_card, text_block
from cards.help import help_card, help_text
from skills.catalog import COMMANDS
from tests.cards.harness import none_leaks, schema_problems, sent, submits_without_command


def test_a_valid_card_has_no_problems() -> None:
    assert schema_problems(adaptive_card([text_block("Hello")])) == []


def test_an_image_style_outside_1_5_is_rejected() -> None:
    card = adaptive_card([{"type": "Image", "url": "https://example.com/a.png", "style": "Round"}])
    assert schema_problems(card) != []


def test_an_unknown_property_is_rejected() -> None:
    assert schema_problems(adaptive_card([{"type": "TextBlock", "txt": "typo"}])) != []


def test_an_msteams_width_teams_does_not_know_is_rejected() -> None:
    card = {**adaptive_card([text_block("Hello")]), "msteams": {"width": "Wide"}}
    assert schema_problems(card) != []


def test_a_none_string_is_caught() -> None:
    assert none_leaks(adaptive_card([text_block("Office: None")])) != []


def test_a_submit_without_a_command_is_caught() -> None:
    card = adaptive_card([text_block("x")], [{"type": "Action.Submit", "title": "Go", "data": {}}])
    assert submits_without_command(card) != []


def test_the_help_card_is_valid() -> None:
    lines = [record.help_line for record in COMMANDS]
    sent(help_card(commands=lines), help_text(commands=lines))
