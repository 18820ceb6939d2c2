"""Domain errors of the Graph layer: each one is something the user can act on, turned into a reply in one place."""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error the Graph layer raises; the message never contains a token."""


class SignInRequired(GraphError):
    """401: the token is missing, expired or revoked; sign the connection out and offer sign-in again."""

    def __init__(self, message: str = "Sign-in is required.") -> None:
        super().__init__(message)


class MissingPermission(GraphError):
    """403: the token lacks the scope (or consent) that the call needs."""

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"The permission {permission} is missing.")
        self.permission = permission


class GraphBusy(GraphError):
    """429, or 503 with Retry-After: Microsoft 365 is throttling; try again in `retry_after` s, when Graph said."""

    def __init__(self, retry_after: int | None) -> None:
        when = f"in {retry_after} s" if retry_after is not None else "in a moment"
        super().__init__(f"Microsoft 365 is busy, try again {when}.")
        self.retry_after = retry_after


class GraphUnavailable(GraphError):
    """5xx, a network error, or the command's deadline ran out."""

    def __init__(self, message: str = "Microsoft 365 did not answer in time.") -> None:
        super().__init__(message)


class GraphRefused(GraphError):
    """Another 4xx: Graph understood and said no (e.g. 404 for a user without a mailbox or OneDrive yet)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Microsoft Graph refused the request ({status}).")
        self.status = status


class NotAGraphLink(GraphError):
    """A "More" link sent back by a client that points outside Microsoft Graph: refused, never followed, so the
    user's token never leaves Graph."""

    def __init__(self) -> None:
        super().__init__("The next-page link is not a Microsoft Graph link.")
