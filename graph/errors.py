"""Domain errors of the Graph layer: each one is something the user can act on, turned into a reply in one place.

Graph being busy or unavailable is the turn's one fault type (`turn.faults`) naming Microsoft 365; it is a
`GraphError` too, so a caller of Graph handles every failure of a Graph call in one place."""

from __future__ import annotations

from turn.faults import ServiceBusy, ServiceUnavailable, try_again_in

GRAPH = "Microsoft 365"
"""The service the user knows Graph as."""


class GraphError(Exception):
    """Base of every error the Graph layer raises; the message never contains a token."""


class SignInRequired(GraphError):
    """The token is bad: missing, expired or revoked (401 `InvalidAuthenticationToken`), or Graph asks for a new one
    with more claims (a claims challenge in `WWW-Authenticate`); sign the connection out and offer sign-in again."""

    def __init__(self, message: str = "Sign-in is required.") -> None:
        super().__init__(message)


class MissingPermission(GraphError):
    """403: the token lacks the scope (or consent) that the call needs."""

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"The permission {permission} is missing.")
        self.permission = permission


class MailboxUnavailable(GraphError):
    """The token is fine but the user has no mailbox Graph can reach: the tenant has no Exchange Online (401
    `OrganizationFromTenantGuidNotFound`), or the mailbox is inactive, unlicensed, soft-deleted or on-premises (404
    `MailboxNotEnabledForRESTAPI`). Calendar and mailbox calls fail; the profile and files still work, so the user
    stays signed in."""

    def __init__(self, code: str) -> None:
        super().__init__(f"The user's mailbox is not available in Exchange Online ({code}).")
        self.code = code


class GraphBusy(ServiceBusy, GraphError):
    """429, or 503 with Retry-After: Microsoft 365 is throttling; try again in `retry_after` s, when Graph said."""

    def __init__(self, retry_after: int | None) -> None:
        super().__init__(GRAPH, retry_after, f"{GRAPH} is busy, try again {try_again_in(retry_after)}.")


class GraphUnavailable(ServiceUnavailable, GraphError):
    """5xx, a network error, or the command's deadline ran out."""

    def __init__(self, message: str = f"{GRAPH} did not answer in time.") -> None:
        super().__init__(GRAPH, message)


class GraphRefused(GraphError):
    """Another 4xx: Graph understood and said no (e.g. 404 for a user without a OneDrive yet)."""

    def __init__(self, status: int, code: str | None = None) -> None:
        super().__init__(f"Microsoft Graph refused the request ({status}{f' {code}' if code else ''}).")
        self.status = status
        self.code = code


class NotAGraphLink(GraphError):
    """A "More" link sent back by a client that points outside Microsoft Graph: refused, never followed, so the
    user's token never leaves Graph."""

    def __init__(self) -> None:
        super().__init__("The next-page link is not a Microsoft Graph link.")
