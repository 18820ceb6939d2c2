"""The sign-in card: Bot Service's OAuthCard, saying what the user signs in to and why.

An OAuthCard has no title of its own, and Teams shows its `text` as plain text (Markdown is not supported in OAuth
sign-in cards: https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format), so the
text opens with what reads as its title. It stays one card in one message: with Teams SSO the client exchanges the
token silently and never shows the card (https://learn.microsoft.com/dotnet/api/microsoft.teams.apps.oauth.oauthcard),
so an explanation sent as a message of its own would be left standing alone in the chat.

The activity's `summary` is Bot Framework's text that replaces attachments where a client does not show them
(https://learn.microsoft.com/dotnet/api/microsoft.agents.core.models.activity.summary). Neither it nor the card's text
reaches the Agents Playground's chat list: its preview reads "Send a card" for Adaptive and Hero cards only and
"Invalid message type" for any other attachment, whatever the card carries (read in its bundled web UI, 0.2.28).
"""

from __future__ import annotations

from microsoft_agents.activity import ActionTypes, Activity, ActivityTypes, CardAction, OAuthCard, SignInResource
from microsoft_agents.hosting.core import CardFactory

SIGN_IN_TEXT = ("Sign in to Microsoft 365: I read your profile, calendar and files with Microsoft Graph, as you and "
                "only when you ask. Your password goes to Microsoft, never to me.")
SIGN_IN_BUTTON = "Sign in"
SIGN_IN_SUMMARY = "Sign in to Microsoft 365 to continue"


def sign_in_activity(resource: SignInResource, connection_name: str, text: str = "", button: str = "") -> Activity:
    """The OAuthCard the SDK would send (its link and its SSO and token-post resources unchanged), with `text` and
    `button` (the handler's TEXT and TITLE settings) or ours."""
    card = OAuthCard(
        text=text or SIGN_IN_TEXT,
        connection_name=connection_name,
        buttons=[CardAction(title=button or SIGN_IN_BUTTON, type=ActionTypes.signin, value=resource.sign_in_link)],
        token_exchange_resource=resource.token_exchange_resource,
        token_post_resource=resource.token_post_resource,
    )
    return Activity(type=ActivityTypes.message, summary=SIGN_IN_SUMMARY, attachments=[CardFactory.oauth_card(card)])
