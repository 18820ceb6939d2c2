"""How far one fault reaches, injected through the local cloud's fault API into a freshly started agent: a slow
signing-key download is shared by every request waiting for it, not queued.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from auth.keys import FETCH_TIMEOUT
from localcloud.client import LocalCloudClient
from localcloud.launcher import CloudProcess, free_port, start_agent

pytestmark = pytest.mark.asyncio

ANSWERED_WITHIN = FETCH_TIMEOUT + 1.5
"""One key download's timeout, the agent's start and the channel's round trip; Bot Service waits 15 s."""


async def test_requests_waiting_for_the_same_signing_keys_share_one_download_and_its_answer(
        cloud: CloudProcess, client: LocalCloudClient, tmp_path: Path) -> None:
    port = free_port()
    await client.add_fault("botframework", "/v1/.well-known/keys", latency_ms=20_000)
    process = start_agent(cloud.env_file, port, log_file=tmp_path / "agent.log")
    endpoint = f"http://127.0.0.1:{port}/api/messages"

    async def teams_help(user: str) -> tuple[int, float]:
        started = time.monotonic()
        sent = await client.teams(user, "help", agent_endpoint=endpoint)
        return sent.status, time.monotonic() - started

    try:
        answers = await asyncio.gather(*(teams_help(user) for user in ("adele", "isaiah", "lidia")))
    finally:
        await client.clear_faults()
        process.stop()

    assert [status for status, _ in answers] == [503, 503, 503]
    assert max(seconds for _, seconds in answers) < ANSWERED_WITHIN, answers
