"""How far one fault reaches, injected through the local cloud's fault API into a freshly started agent: Entra's 429 to
one user's on-behalf-of exchange holds the agent's exchanges for every user, as Entra and MSAL mean it, and each user
is told when to try again; a slow signing-key download is shared by every request waiting for it, not queued.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp
import pytest

from auth.keys import FETCH_TIMEOUT
from localcloud.client import LocalCloudClient
from localcloud.launcher import CloudProcess, free_port, start_agent
from tests.support import RunningAgent, display_name

pytestmark = pytest.mark.asyncio

TOKEN_PATH = "/*/oauth2/v2.0/token"
WAIT = re.compile(r"try again in (\d+) s")
ANSWERED_WITHIN = FETCH_TIMEOUT + 1.5
"""One key download's timeout, the agent's start and the channel's round trip; Bot Service waits 15 s."""


async def token_requests(client: LocalCloudClient) -> int:
    """Token requests the local Entra answered so far (every grant, every agent)."""
    return sum(row["count"] for row in await client.traffic()
               if row["service"] == "login" and row["method"] == "POST" and row["path"].endswith("/oauth2/v2.0/token"))


async def until_ready(agent: RunningAgent) -> None:
    """The agent's start-up work (its own tokens, Graph, the keys) is done, so the fault meets a user's exchange."""
    async with asyncio.timeout(30), aiohttp.ClientSession() as session:
        while True:
            async with session.get(agent.endpoint.replace("/api/messages", "/readyz")) as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.2)


async def connector_me(client: LocalCloudClient, agent: RunningAgent, user: str) -> tuple[str, str]:
    """A Copilot Studio connector `/me` turn, with a new token for the user as Copilot Studio sends each turn: what the
    agent's messages said, and their cards."""
    answered = await client.copilot(user, "/me", agent_endpoint=agent.endpoint)
    messages = [reply for reply in answered.replies if reply.get("type") == "message"]
    cards = [attachment for message in messages for attachment in message.get("attachments") or []]
    return " ".join(message.get("text") or "" for message in messages), json.dumps(cards)


async def test_an_on_behalf_of_429_holds_every_users_exchange_and_tells_each_when_to_try_again(
        client: LocalCloudClient, agent: RunningAgent) -> None:
    await until_ready(agent)
    _, cards = await connector_me(client, agent, "patti")
    assert display_name("patti") in cards
    await client.add_fault("login", TOKEN_PATH, status=429, retry_after=60, count=1)

    megan, _ = await connector_me(client, agent, "megan")
    asked = await token_requests(client)
    alex = [await connector_me(client, agent, "alex") for _ in range(2)]
    await asyncio.sleep(2)
    alex.append(await connector_me(client, agent, "alex"))

    assert "Entra" in megan and WAIT.findall(megan) == ["60"], megan
    assert all("Entra" in text and display_name("alex") not in cards for text, cards in alex), alex
    waits = [int(wait) for text, _ in alex for wait in WAIT.findall(text)]
    assert len(waits) == 3 and waits == sorted(waits, reverse=True), alex
    assert waits[0] <= 60 and waits[-1] <= 58  # the time left, not the Retry-After Entra first sent
    assert await token_requests(client) == asked  # MSAL kept Entra's Retry-After for the app, not for Megan alone


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
