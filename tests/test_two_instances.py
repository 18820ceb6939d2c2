"""Two agent instances behind one "load balancer": their state on one Azurite, Teams on the local cloud.

Teams may deliver the magic code, or each client's SSO token exchange, to a different instance than the one that
sent the OAuthCard; the shared Blob state must carry the sign-in across, and claim each exchange only once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from azure.storage.blob.aio import ContainerClient

from localcloud.browser import magic_code_for
from localcloud.channels import teams_user_id
from localcloud.client import LocalCloudClient, Recorded
from localcloud.launcher import AzuriteProcess, CloudProcess, free_port, start_agent
from localcloud.tenant import USERS
from tests.support import ask_signed_out, is_profile_of, oauth_links

LATE_SECONDS = 3
"""Longer than a command takes, so a second sign-in's profile card would have arrived (the SDK replays `/me` on its
own time)."""


@pytest.fixture(scope="module")
def container() -> str:
    """The Blob container both instances keep their state in."""
    return f"agent-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def instances(cloud: CloudProcess, azurite: AzuriteProcess, container: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The /api/messages endpoints of instances A and B, both on STORAGE=blob in one container."""
    storage = {"STORAGE": "blob", "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
               "AZURE_STORAGE_CONTAINER": container}
    logs = tmp_path_factory.mktemp("agents")
    ports = free_port(), free_port()
    agents = []
    try:
        for name, port in zip("ab", ports, strict=True):
            agents.append(start_agent(cloud.env_file, port, log_file=logs / f"agent-{name}.log", extra_env=storage))
        yield tuple(f"http://127.0.0.1:{port}/api/messages" for port in ports)  # type: ignore[misc]
    finally:
        for agent in agents:
            agent.stop()


@pytest.fixture
async def teams(cloud: CloudProcess) -> AsyncIterator[LocalCloudClient]:
    async with LocalCloudClient(cloud.url) as client:
        yield client


def _exchange(cloud: CloudProcess) -> dict[str, Any]:
    """A `signin/tokenExchange` value as Teams sends it for a new sign-in card."""
    return {"id": f"exchange-{uuid.uuid4().hex}", "connectionName": cloud.settings["LOCALCLOUD_OAUTH_CONNECTION"]}


def _oauth_link(replies: list[Recorded]) -> str:
    links = oauth_links(replies)
    assert links, [reply.activity for reply in replies]
    return links[0]


async def test_the_magic_code_on_instance_b_completes_the_sign_in_that_instance_a_started(
        teams: LocalCloudClient, instances: tuple[str, str]) -> None:
    a, b = instances
    sent = await ask_signed_out(teams, a, "isaiah", "/me")
    code = await magic_code_for(_oauth_link(sent.replies), "isaiah", ca_file=await teams.ca_file())

    await teams.teams("isaiah", code, agent_endpoint=b)

    reply = await teams.wait_for_reply(sent.conversation, is_profile_of("isaiah"), timeout=15, after=sent.last)
    assert "Sales Rep" in json.dumps(reply.attachments)


async def test_token_exchanges_for_one_sign_in_sent_to_both_instances_sign_in_once(
        teams: LocalCloudClient, instances: tuple[str, str], cloud: CloudProcess) -> None:
    a, b = instances
    sent = await ask_signed_out(teams, a, "diego", "/me")
    _oauth_link(sent.replies)
    value = _exchange(cloud)

    on_a, on_b = await asyncio.gather(teams.teams_sso("diego", value=value, agent_endpoint=a),
                                      teams.teams_sso("diego", value=value, agent_endpoint=b))

    assert (on_a.status, on_b.status) == (200, 200)
    await teams.wait_for_reply(sent.conversation, is_profile_of("diego"), timeout=15, after=sent.last)
    await asyncio.sleep(LATE_SECONDS)
    replies, _ = await teams.activities(sent.conversation, after=sent.last)
    assert sum(1 for reply in replies if is_profile_of("diego")(reply)) == 1


async def test_an_exchange_that_reaches_the_other_instance_after_the_sign_in_finished_is_acknowledged(
        teams: LocalCloudClient, instances: tuple[str, str], cloud: CloudProcess) -> None:
    a, b = instances
    sent = await ask_signed_out(teams, a, "diego", "/me")
    _oauth_link(sent.replies)
    value = _exchange(cloud)
    assert (await teams.teams_sso("diego", value=value, agent_endpoint=a)).status == 200
    await teams.wait_for_reply(sent.conversation, is_profile_of("diego"), timeout=15, after=sent.last)

    late = await teams.teams_sso("diego", value=value, agent_endpoint=b)

    assert late.status == 200
    await asyncio.sleep(LATE_SECONDS)
    replies, _ = await teams.activities(sent.conversation, after=sent.last)
    assert sum(1 for reply in replies if is_profile_of("diego")(reply)) == 1


async def test_a_user_who_signs_in_again_and_again_keeps_one_exchange_claim_in_storage(
        teams: LocalCloudClient, instances: tuple[str, str], cloud: CloudProcess, azurite: AzuriteProcess,
        container: str) -> None:
    a, b = instances
    for _ in range(3):
        sent = await ask_signed_out(teams, a, "lidia", "/me")
        _oauth_link(sent.replies)
        assert (await teams.teams_sso("lidia", value=_exchange(cloud), agent_endpoint=b)).status == 200
        await teams.wait_for_reply(sent.conversation, is_profile_of("lidia"), timeout=15, after=sent.last)

    lidia = teams_user_id(next(user for user in USERS if user.username == "lidia"))
    async with ContainerClient.from_connection_string(azurite.connection_string, container) as blobs:
        claims = [blob.name async for blob in blobs.list_blobs(name_starts_with="auth/tokenExchange/")]
    assert [name for name in claims if lidia in name] == [f"auth/tokenExchange/msteams/{lidia}"]
