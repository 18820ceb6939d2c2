"""Invokes get the statuses the Bot Framework and Teams protocols give, from the agent in its own process, with and
without a sign-in in progress, and never an apology or a failed turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from localcloud.client import LocalCloudClient, TeamsResult
from localcloud.launcher import CloudProcess
from tests.support import RunningAgent, ask_signed_out, oauth_links

pytestmark = pytest.mark.asyncio

CONNECTION = "graph"
WRONG_CODE = "That code didn't work"


class _Teams:
    """One Teams user's conversation with the agent."""

    def __init__(self, client: LocalCloudClient, agent: RunningAgent, user: str) -> None:
        self.client, self.agent, self.user = client, agent, user

    async def say(self, text: str) -> TeamsResult:
        return await self.client.teams(self.user, text, agent_endpoint=self.agent.endpoint)

    async def invoke(self, name: str, value: Any = None) -> TeamsResult:
        return await self.client.teams_invoke(self.user, name, value, agent_endpoint=self.agent.endpoint)

    async def start_sign_in(self) -> None:
        sent = await ask_signed_out(self.client, self.agent.endpoint, self.user, "/me")
        assert oauth_links(sent.replies)

    async def still_signing_in(self) -> bool:
        """A wrong code is answered as one only while a sign-in is pending (it uses one of the SDK's attempts)."""
        answer = await self.say("000000")
        return any(WRONG_CODE in (reply.text or "") for reply in answer.replies)


@pytest.fixture
async def isaiah(cloud: CloudProcess, agent: RunningAgent) -> AsyncIterator[_Teams]:
    """Isaiah, signed out and with no sign-in in progress before and after the test; no turn of his fails."""
    async with LocalCloudClient(cloud.url) as client:
        teams = _Teams(client, agent, "isaiah")
        await teams.say("/logout")
        failed = agent.failed_turns()
        yield teams
        await teams.say("/logout")
    assert agent.failed_turns() == failed


def _no_reply(result: TeamsResult) -> bool:
    return not result.replies


@pytest.mark.parametrize("name", ["adaptiveCard/action", "task/fetch", "composeExtension/query", "config/fetch",
                                  "made-up/invoke"])
async def test_an_invoke_the_agent_does_not_implement_gets_501_and_no_reply(isaiah: _Teams, name: str) -> None:
    answered = await isaiah.invoke(name, {"action": {"type": "Action.Execute", "verb": "refresh"}})

    assert answered.status == 501 and _no_reply(answered)


async def test_a_card_action_during_a_sign_in_gets_501_without_an_apology_and_the_sign_in_stays(
    isaiah: _Teams
) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("adaptiveCard/action", {"action": {"type": "Action.Execute", "verb": "more"}})

    assert answered.status == 501 and _no_reply(answered)
    assert await isaiah.still_signing_in()


@pytest.mark.parametrize("value", [None, "123456", [], {}, {"state": 123456}, {"state": ""}, {"state": "1" * 300}],
                         ids=["none", "string", "list", "no-state", "number", "empty", "too-long"])
async def test_verify_state_without_a_state_string_is_400_and_the_sign_in_stays(isaiah: _Teams, value: Any) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("signin/verifyState", value)

    assert answered.status == 400 and _no_reply(answered)
    assert await isaiah.still_signing_in()


async def test_verify_state_with_a_code_the_token_service_does_not_know_is_404(isaiah: _Teams) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("signin/verifyState", {"state": "000000"})

    assert answered.status == 404
    assert await isaiah.still_signing_in()


async def test_a_token_exchange_the_token_service_refuses_is_412_so_teams_shows_the_sign_in_card(
    isaiah: _Teams
) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("signin/tokenExchange",
                                   {"id": "exchange-1", "connectionName": CONNECTION, "token": "not-a-token"})

    assert answered.status == 412
    assert answered.body == {"id": "exchange-1", "connectionName": CONNECTION,
                             "failureDetail": "The agent is unable to exchange the token. Proceed with regular login."}
    assert await isaiah.still_signing_in()


async def test_after_a_refused_token_exchange_a_genuine_one_still_signs_in(isaiah: _Teams) -> None:
    await isaiah.start_sign_in()
    await isaiah.invoke("signin/tokenExchange", {"id": "exchange-2", "connectionName": CONNECTION, "token": "junk"})

    exchanged = await isaiah.client.teams_sso("isaiah", value={"id": "exchange-2"},
                                              agent_endpoint=isaiah.agent.endpoint)

    assert exchanged.status == 200


@pytest.mark.parametrize("value", [None, "token", [], {"id": "x"}, {"id": "x", "token": "t"},
                                   {"id": "x", "connectionName": CONNECTION}, {"id": 5, "connectionName": CONNECTION,
                                                                               "token": "t"}],
                         ids=["none", "string", "list", "id-only", "no-connection", "no-token", "numeric-id"])
async def test_a_token_exchange_value_that_is_no_exchange_request_is_400(isaiah: _Teams, value: Any) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("signin/tokenExchange", value)

    assert answered.status == 400
    assert answered.body["connectionName"] == CONNECTION and "failureDetail" in answered.body
    assert await isaiah.still_signing_in()


async def test_a_token_exchange_for_another_connection_is_400(isaiah: _Teams) -> None:
    await isaiah.start_sign_in()

    answered = await isaiah.invoke("signin/tokenExchange",
                                   {"id": "exchange-3", "connectionName": "SomeoneElses", "token": "t"})

    assert answered.status == 400 and answered.body["id"] == "exchange-3"


@pytest.mark.parametrize("name, value, status", [
    ("signin/verifyState", {"state": "123456"}, 404),
    ("signin/tokenExchange", {"id": "late", "connectionName": CONNECTION, "token": "t"}, 412),
    ("signin/failure", {"code": "installedappnotfound", "message": "The bot app is not installed"}, 200),
], ids=["verify-state", "token-exchange", "failure"])
async def test_a_sign_in_invoke_with_no_sign_in_in_progress_is_answered_without_a_reply(
    isaiah: _Teams, name: str, value: Any, status: int
) -> None:
    answered = await isaiah.invoke(name, value)

    assert answered.status == status and _no_reply(answered)


@pytest.mark.parametrize("kind", ["typing", "messageReaction", "installationUpdate"])
async def test_activities_no_command_takes_are_accepted_and_ignored(isaiah: _Teams, kind: str) -> None:
    sent = await isaiah.client.teams("isaiah", "hello", type=kind, agent_endpoint=isaiah.agent.endpoint)

    assert sent.status == 202 and _no_reply(sent)
    assert "No route found" not in isaiah.agent.log_file.read_text()
