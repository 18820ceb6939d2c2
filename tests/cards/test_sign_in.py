"""The sign-in card: the SDK's OAuthCard with a text that says what and why, and a summary."""

from __future__ import annotations

from microsoft_agents.activity import SignInResource, TokenExchangeResource, TokenPostResource

from cards.sign_in import SIGN_IN_BUTTON, SIGN_IN_SUMMARY, SIGN_IN_TEXT, sign_in_activity

RESOURCE = SignInResource(
    sign_in_link="https://token.botframework.com/api/oauth/signin?signin=abc",
    token_exchange_resource=TokenExchangeResource(id="x1", uri="api://botid-1234", provider_id="p"),
    token_post_resource=TokenPostResource(sas_url="https://token.botframework.com/api/sas"),
)


def _card(**words: str) -> dict:
    activity = sign_in_activity(RESOURCE, "graph", **words)
    [attachment] = activity.model_dump(mode="json", by_alias=True, exclude_none=True)["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.oauth"
    return attachment["content"]


def test_the_card_keeps_the_sdks_link_and_its_sso_and_token_post_resources() -> None:
    card = _card()

    assert card["connectionName"] == "graph"
    assert card["buttons"] == [{"type": "signin", "title": SIGN_IN_BUTTON, "value": RESOURCE.sign_in_link}]
    assert card["tokenExchangeResource"] == {"id": "x1", "uri": "api://botid-1234", "providerId": "p"}
    assert card["tokenPostResource"] == {"sasUrl": "https://token.botframework.com/api/sas"}


def test_the_text_opens_with_what_the_user_signs_in_to_and_says_why_in_plain_text() -> None:
    text = _card()["text"]

    assert text == SIGN_IN_TEXT and text.startswith("Sign in to Microsoft 365: ")
    assert "Microsoft Graph" in text and not any(mark in text for mark in ("**", "](", "<"))


def test_the_handlers_text_and_title_settings_replace_ours() -> None:
    card = _card(text="Sign in to Contoso's Microsoft 365 to use the agent.", button="Continue")

    assert card["text"] == "Sign in to Contoso's Microsoft 365 to use the agent."
    assert card["buttons"][0]["title"] == "Continue"


def test_the_message_carries_a_summary_for_clients_that_show_no_card() -> None:
    assert sign_in_activity(RESOURCE, "graph").summary == SIGN_IN_SUMMARY
