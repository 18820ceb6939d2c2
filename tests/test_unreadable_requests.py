"""What the fuzzer found once, kept: a request no channel would send gets its 4xx and one warning line in the agent's
log, never a traceback or an apology for a fault that is the caller's."""

from __future__ import annotations

import json

import aiohttp
import pytest

from localcloud.client import LocalCloudClient
from tests.support import RunningAgent

UNPRINTABLE_IDS = {"a from.id holding control characters": ("from", "id", "29:\x00\r\n" * 3_000),
                   "a from.id of ten thousand letters": ("from", "id", "29:" + "x" * 10_000),
                   "a conversation.id holding a NUL": ("conversation", "id", "a:1\x00b")}


def new_lines(agent: RunningAgent, before: int) -> list[dict[str, str]]:
    return [json.loads(line) for line in agent.log_file.read_text(errors="replace").splitlines()[before:]]


def line_count(agent: RunningAgent) -> int:
    return len(agent.log_file.read_text(errors="replace").splitlines())


@pytest.mark.parametrize("case", UNPRINTABLE_IDS)
async def test_an_id_no_channel_would_send_is_refused_with_400_and_one_warning_line(
        client: LocalCloudClient, agent: RunningAgent, case: str) -> None:
    sample = await client.teams("adele", "/help", agent_endpoint=agent.endpoint)
    field, key, value = UNPRINTABLE_IDS[case]
    body = json.loads(json.dumps(sample.activity)) | {"text": "/me", "id": "fuzzed"}
    body[field] = {**body[field], key: value}
    before = line_count(agent)

    result = await client.raw("teams", "adele", body, agent_endpoint=agent.endpoint)

    assert result.status == 400 and result.replies == []
    lines = new_lines(agent, before)
    assert [(line["level"], line["message"]) for line in lines if line["level"] not in ("DEBUG", "INFO")] == [
        ("WARNING", f"Refused a request to /api/messages (400): the activity's {field}.{key} is not an id")]
    assert not any("exception" in line for line in lines)


async def test_a_bearer_token_of_100_kb_is_refused_with_400_and_one_warning_line(agent: RunningAgent) -> None:
    before = line_count(agent)
    async with aiohttp.ClientSession() as http, http.post(
            agent.endpoint, json={}, headers={"Authorization": "Bearer " + "a" * 100_000}) as response:
        status = response.status

    assert status == 400
    lines = new_lines(agent, before)
    assert [(line["level"], line["message"]) for line in lines if line["level"] not in ("DEBUG", "INFO")] == [
        ("WARNING", "Refused a request that is not valid HTTP (400): LineTooLong")]
    assert not any("exception" in line for line in lines)
