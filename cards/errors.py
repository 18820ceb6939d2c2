"""What the user sees when Graph fails: one card (and its plain-text fallback) per domain error of `graph/errors.py`.

`command` is what the user asked (e.g. `/calendar tomorrow`): the buttons send it again."""

from __future__ import annotations

from graph.errors import (
    GraphError,
    GraphRefused,
    MailboxUnavailable,
    MissingPermission,
    NotAGraphLink,
    SignInRequired,
)
from turn.faults import ServiceBusy, try_again_in

from .common import Card, Element, adaptive_card, command_button, text_block


def _explain(error: GraphError, command: str) -> tuple[str, str, list[Element]]:
    """Title, message and buttons for `error`; a failure that may pass (5xx, timeouts) reads as unavailable, with a
    retry."""
    match error:
        case SignInRequired():
            # Sending the command again makes the sign-in handler show its sign-in card; `signIn` says why.
            return ("Sign-in required",
                    f"Please sign in to Microsoft 365 to use {command}: send {command} again to sign in.",
                    [command_button("Sign in", command, {"signIn": True})])
        case MissingPermission(permission=permission):
            return ("Permission missing",
                    f"I can't do {command}: the permission {permission} has not been granted. "
                    "Ask your Microsoft 365 admin to grant it, then try again.", [])
        case MailboxUnavailable():
            # The token is fine: no sign-in button, and the commands that need no mailbox are named.
            return ("Calendar not available",
                    f"I can't show {command}: your account has no mailbox in Exchange Online, where your calendar "
                    "would be (it may be unlicensed, inactive, or kept on your organisation's own servers). "
                    "/me and /files still work. Ask your Microsoft 365 admin if you expected a calendar here.", [])
        case ServiceBusy(service=service, retry_after=seconds):
            return f"{service} is busy", f"{service} is busy right now. Try again {try_again_in(seconds)}.", []
        case GraphRefused(status=404):
            return ("Nothing to show",
                    f"Microsoft 365 has nothing for {command} for your account: it may have no mailbox or OneDrive "
                    "yet. Ask your Microsoft 365 admin if that is unexpected.", [])
        case GraphRefused(status=status):
            return ("Microsoft 365 refused", f"Microsoft 365 refused {command} (HTTP {status}).", [])
        case NotAGraphLink():
            return ("Link refused",
                    f"I won't follow that link for {command}: it does not point to Microsoft Graph. "
                    f"Send {command} again to start from the first page.", [command_button("First page", command)])
        case _:
            return ("Microsoft 365 is unavailable",
                    f"Sorry, Microsoft 365 did not answer in time for {command}. Please try again.",
                    [command_button("Retry", command)])


def error_card(error: GraphError, command: str) -> Card:
    title, message, buttons = _explain(error, command)
    return adaptive_card([text_block(title, weight="Bolder", color="Attention"), text_block(message)], buttons)


def error_text(error: GraphError, command: str) -> str:
    return _explain(error, command)[1]
