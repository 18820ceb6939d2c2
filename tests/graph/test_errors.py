"""Which Graph failures sign the user out: only a bad token, never a user who merely has no mailbox."""

from __future__ import annotations

import pytest

from graph.calendar import get_calendar
from graph.client import GraphClient, error_for
from graph.errors import GraphRefused, MailboxUnavailable, MissingPermission, SignInRequired
from graph.files import recent_files
from graph.profile import get_profile
from tests.graph.conftest import TokenFor

CLAIMS_CHALLENGE = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
                    'error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="')


@pytest.mark.parametrize(("name", "code"), [("grady", "MailboxNotEnabledForRESTAPI"),
                                            ("nestor", "OrganizationFromTenantGuidNotFound")])
async def test_a_calendar_without_an_exchange_online_mailbox_is_mailbox_unavailable(
        graph: GraphClient, token_for: TokenFor, name: str, code: str) -> None:
    with pytest.raises(MailboxUnavailable) as raised:
        await get_calendar(graph, token_for(name), "today", chat_zone="Europe/London")
    assert raised.value.code == code


@pytest.mark.parametrize("name", ["grady", "nestor"])
async def test_profile_and_files_work_without_a_mailbox(graph: GraphClient, token_for: TokenFor, name: str) -> None:
    token = token_for(name)
    profile = await get_profile(graph, token)
    files = await recent_files(graph, token)
    assert profile.display_name and profile.job_title and files.items


def test_invalid_authentication_token_is_sign_in_required() -> None:
    assert isinstance(error_for(401, None, "User.Read", "InvalidAuthenticationToken"), SignInRequired)


@pytest.mark.parametrize("status", [401, 403])
def test_a_claims_challenge_is_sign_in_required(status: int) -> None:
    """claims-challenge: a 401 with `error="insufficient_claims"`; errors: Conditional Access answers 403 so."""
    assert isinstance(error_for(status, None, "User.Read", None, CLAIMS_CHALLENGE), SignInRequired)


def test_a_401_with_another_code_is_a_refusal_not_a_sign_out() -> None:
    error = error_for(401, None, "Calendars.ReadBasic", "SomeFutureCode")
    assert isinstance(error, GraphRefused) and (error.status, error.code) == (401, "SomeFutureCode")


def test_a_403_without_a_challenge_names_the_missing_permission() -> None:
    error = error_for(403, None, "Files.Read.All", "accessDenied", 'Bearer realm=""')
    assert isinstance(error, MissingPermission) and error.permission == "Files.Read.All"
