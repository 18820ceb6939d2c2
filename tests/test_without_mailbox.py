"""A user whose token is fine but who has no Exchange Online mailbox (a tenant without Exchange Online, or an inactive,
unlicensed or on-premises mailbox): `/calendar` says so in plain words and `/me` and `/files` keep working, with no
sign-in in between, on Teams and on Copilot Studio's connector. End to end: the agent in its own process."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.client import LocalCloudClient, Recorded
from tests.support import adaptive_cards, is_profile_of, oauth_links, teams_user_signed_in

pytestmark = pytest.mark.asyncio

NO_MAILBOX = ("grady", "nestor")
SAYS_NO_MAILBOX = "no mailbox in Exchange Online"


def saying(words: str) -> Any:
    return lambda reply: words in json.dumps(reply.activity)


def lists_files(reply: Recorded) -> bool:
    return any("Your recent files" in json.dumps(card) for card in adaptive_cards([reply]))


async def answer(client: LocalCloudClient, endpoint: str, user: str, text: str,
                 wanted: Callable[[Recorded], bool]) -> tuple[Recorded, list[Recorded]]:
    """Send `text` on Teams and wait for the reply that matches; also every reply sent up to it."""
    sent = await client.teams(user, text, agent_endpoint=endpoint)
    found = next((reply for reply in sent.replies if wanted(reply)), None)
    if found is None:
        found = await client.wait_for_reply(sent.conversation, wanted, timeout=15, after=sent.last)
    return found, [*sent.replies, *await client.collect(sent.conversation, after=sent.last, wait=0, settle=0)]


@pytest.mark.parametrize("user", NO_MAILBOX)
async def test_on_teams_calendar_says_there_is_no_mailbox_and_me_and_files_follow_without_sign_in(
        client: LocalCloudClient, agent_endpoint: str, user: str) -> None:
    async with teams_user_signed_in(client, agent_endpoint, user):
        _, calendar = await answer(client, agent_endpoint, user, "/calendar", saying(SAYS_NO_MAILBOX))
        _, me = await answer(client, agent_endpoint, user, "/me", is_profile_of(user))
        _, files = await answer(client, agent_endpoint, user, "/files", lists_files)
    assert not oauth_links([*calendar, *me, *files])


@pytest.mark.parametrize("user", NO_MAILBOX)
async def test_on_the_copilot_studio_connector_calendar_says_there_is_no_mailbox_and_me_and_files_answer(
        client: LocalCloudClient, agent_endpoint: str, user: str) -> None:
    answers = [json.dumps(result.replies) for result in
               [await client.copilot(user, text, delivery="expectReplies", agent_endpoint=agent_endpoint)
                for text in ("/calendar", "/me", "/files")]]
    calendar, me, files = answers
    assert SAYS_NO_MAILBOX in calendar and "Reconnect" not in calendar
    assert "Reconnect" not in me and "Your recent files" in files
    assert any(name in me for name in ("Grady Archie", "Nestor Wilke"))
