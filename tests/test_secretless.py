"""The secretless deployment of docs/deploy.md, run for real: the agent proves itself with its host's managed identity
(`AUTHTYPE=FederatedCredentials`, no client secret) and keeps its state in Blob storage through Entra ID (no account
key), against the local cloud's identity endpoint, Entra and Azurite."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from dotenv import dotenv_values

from localcloud.client import LocalCloudClient
from localcloud.launcher import AzuriteProcess, CloudProcess
from tests.support import RunningAgent, agent_with_settings

SERVICE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"


@pytest.fixture(scope="module")
def secretless_agent(cloud: CloudProcess, azurite_with_entra: AzuriteProcess,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    """`python bot.py` with no secret and no key: the local cloud's settings minus CLIENTSECRET, plus what step 2 and
    step 9 of the guide set."""
    directory = tmp_path_factory.mktemp("secretless")
    settings = {key: value or "" for key, value in dotenv_values(cloud.env_file).items()}
    identity = settings["LOCALCLOUD_MANAGED_IDENTITY_CLIENT_ID"]
    settings |= {f"{SERVICE}AUTHTYPE": "FederatedCredentials", f"{SERVICE}CLIENTSECRET": "",
                 f"{SERVICE}FEDERATEDCLIENTID": identity,
                 "STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": azurite_with_entra.account_url,
                 "AZURE_STORAGE_CONTAINER": f"secretless-{uuid.uuid4().hex[:12]}", "AZURE_CLIENT_ID": identity}
    with agent_with_settings(settings, directory) as agent:
        yield agent


async def test_with_no_secret_the_agent_gets_copilot_studios_user_a_graph_token_on_behalf_of_them(
        client: LocalCloudClient, secretless_agent: RunningAgent) -> None:
    result = await client.copilot("megan", "/me", delivery="expectReplies", agent_endpoint=secretless_agent.endpoint)

    assert result.status == 200
    assert "Marketing Manager" in json.dumps(result.replies)
    assert secretless_agent.failed_turns() == 0


async def test_with_no_secret_and_no_storage_key_a_teams_user_gets_the_sign_in_card(
        client: LocalCloudClient, secretless_agent: RunningAgent) -> None:
    """The reply goes through Bot Service with the agent's own token, and the pending sign-in is written to Blob."""
    await client.teams("adele", "/logout", agent_endpoint=secretless_agent.endpoint)
    sent = await client.teams("adele", "/me", agent_endpoint=secretless_agent.endpoint)

    assert any(attachment.get("contentType") == "application/vnd.microsoft.card.oauth"
               for reply in sent.replies for attachment in reply.attachments)
    assert secretless_agent.failed_turns() == 0
