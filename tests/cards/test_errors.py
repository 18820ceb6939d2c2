"""Error cards: each Graph failure becomes something the user can act on."""

from __future__ import annotations

import pytest

from cards.errors import error_card, error_text
from graph.errors import (
    GraphBusy,
    GraphError,
    GraphRefused,
    GraphUnavailable,
    MailboxUnavailable,
    MissingPermission,
    SignInRequired,
)
from tests.cards.harness import actions, sent, texts

ERRORS = [SignInRequired(), MissingPermission("Calendars.Read"), GraphBusy(30), GraphBusy(None), GraphUnavailable(),
          GraphRefused(404), GraphRefused(400), MailboxUnavailable("MailboxNotEnabledForRESTAPI"), GraphError("?")]


def shown(error: GraphError, command: str = "/calendar tomorrow") -> dict:
    return sent(error_card(error, command), error_text(error, command))


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_card_is_valid(error: GraphError) -> None:
    shown(error)


def test_sign_in_required_offers_a_sign_in_button_that_resends_the_command() -> None:
    [button] = actions(shown(SignInRequired()))
    assert (button["title"], button["data"]["command"], button["data"]["signIn"]) == ("Sign in", "/calendar tomorrow",
                                                                                      True)


def test_sign_in_required_resends_the_command_as_typed_text_in_teams() -> None:
    [button] = actions(shown(SignInRequired()))
    assert button["data"]["msteams"] == {"type": "imBack", "value": "/calendar tomorrow"}


def test_missing_permission_names_the_permission() -> None:
    assert any("Calendars.Read" in text for text in texts(shown(MissingPermission("Calendars.Read"))))


def test_busy_says_when_to_try_again() -> None:
    assert any("try again in 30 s" in text.lower() for text in texts(shown(GraphBusy(30))))


def test_busy_without_a_retry_after_invents_no_wait() -> None:
    assert any("try again in a moment" in text.lower() for text in texts(shown(GraphBusy(None))))


def test_a_404_says_there_is_nothing_and_offers_no_retry() -> None:
    card = shown(GraphRefused(404))
    assert any("no mailbox or onedrive" in text.lower() for text in texts(card)) and not actions(card)


def test_another_refusal_names_the_status_and_offers_no_retry() -> None:
    card = shown(GraphRefused(400))
    assert any("HTTP 400" in text for text in texts(card)) and not actions(card)


def test_unavailable_offers_a_retry_carrying_the_command() -> None:
    [button] = actions(shown(GraphUnavailable()))
    assert (button["title"], button["data"]["command"]) == ("Retry", "/calendar tomorrow")


def test_an_unexpected_graph_error_reads_as_unavailable() -> None:
    assert [a["title"] for a in actions(shown(GraphError("boom")))] == ["Retry"]


@pytest.mark.parametrize(("error", "fact"), [(SignInRequired(), "sign in"), (MissingPermission("Files.Read"),
                         "Files.Read"), (GraphBusy(12), "12 s"), (GraphUnavailable(), "try again")])
def test_the_fallback_text_carries_the_key_fact(error: GraphError, fact: str) -> None:
    assert fact.lower() in error_text(error, "/files").lower()


def test_no_mailbox_says_so_in_plain_words_offers_no_sign_in_and_names_what_still_works() -> None:
    card = shown(MailboxUnavailable("OrganizationFromTenantGuidNotFound"))
    text = " ".join(texts(card))
    assert "no mailbox in Exchange Online" in text and "/me and /files still work" in text and not actions(card)
    assert "OrganizationFromTenantGuidNotFound" not in text
