"""The "Copilot Studio only" route of docs/deploy.md, run for real: no Azure Bot, so no Teams handler in the settings
(microsoft/Agents#219); the agent serves Copilot Studio's connector with the connector handler alone."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from dotenv import dotenv_values

from diagnostics.doctor import run
from localcloud.client import LocalCloudClient
from localcloud.launcher import CloudProcess
from tests.support import RunningAgent, agent_with_settings

TEAMS_HANDLER = "AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__GRAPH__"


@pytest.fixture(scope="module")
def connector_only(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    directory = tmp_path_factory.mktemp("copilot-studio-only")
    settings = {key: value or "" for key, value in dotenv_values(cloud.env_file).items()
                if not key.startswith(TEAMS_HANDLER)}
    with agent_with_settings(settings, directory) as agent:
        yield agent


async def test_settings_without_a_teams_handler_pass_the_doctor_and_serve_copilot_studios_user(
        client: LocalCloudClient, connector_only: RunningAgent) -> None:
    """One behaviour, two sides: what the doctor accepts for this route is what the agent serves Copilot Studio with."""
    out = io.StringIO()
    status = run(connector_only.log_file.parent / "agent.env", {}, out)

    result = await client.copilot("isaiah", "/me", delivery="expectReplies", agent_endpoint=connector_only.endpoint)

    assert status == 0 and "Route: Copilot Studio only" in out.getvalue(), out.getvalue()
    assert result.status == 200 and "Sales Rep" in json.dumps(result.replies)
    assert connector_only.failed_turns() == 0
