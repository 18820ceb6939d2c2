"""The fault matrix: every service a turn calls (Graph, the token service, Entra on-behalf-of, the Bot Connector, Blob
storage) throttling with `Retry-After`, failing (500, 503), resetting the connection or stalling for 20 s. Every turn
ends within its deadline with a message that names the cause (or, when the reply path itself fails, quietly), the
agent logs no traceback, and the next user's turn works. The signing-key endpoints (JWKS) failing the same ways leave
turns alone: the keys are fetched before the agent is ready and kept (a cold start without them is
`tests/test_signing_keys.py`'s). Entra's 429 to an on-behalf-of exchange is the one fault that spares no next user: it
holds the agent's exchanges for every user until its `Retry-After` (`tests/test_fault_spread.py`).

The agent runs with `TURN_DEADLINE_SECONDS=4` to keep this quick, its state in Azurite behind `localcloud.blobproxy`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from localcloud.client import LocalCloudClient
from localcloud.launcher import (
    AzuriteProcess,
    BlobProxyProcess,
    CloudProcess,
    free_port,
    start_agent,
    start_azurite,
    start_blob_proxy,
)
from tests.support import RunningAgent, display_name, sign_in

pytestmark = pytest.mark.asyncio

TURN_SECONDS = 4.0
ENDED_WITHIN = TURN_SECONDS + 1.5
"""The deadline, the cut-off grace and the channel's own round trip."""
TEAMS_USERS = ("megan", "isaiah")
COPILOT_USERS = ("patti", "lidia")
KEYS_COPILOT_USER = "adele"
"""Copilot users no other test here throttles (MSAL keeps a user's throttling for the `Retry-After`)."""
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"status": 429, "retry_after": 30},
    "500": {"status": 500},
    "503": {"status": 503},
    "reset": {"reset": True},
    "20s": {"latency_ms": 20_000},
}


@dataclass(frozen=True)
class Target:
    service: str
    """The fault registry's name for it."""
    path: str
    channel: str
    """Whose turns reach it: `teams` (signed-in users) or `copilot` (the connector, on-behalf-of)."""
    cause: str | None
    """What the user is told names it; None when the fault is on the reply path itself."""


TARGETS = {
    "graph": Target("graph", "/v1.0/$batch", "teams", "Microsoft 365"),
    "token service": Target("tokenservice", "/api/usertoken/*", "teams", "sign-in service"),
    "entra obo": Target("login", "/*/oauth2/v2.0/token", "copilot", "Entra"),
    "bot connector": Target("channels", "/teams/v3/conversations/*", "teams", None),
    "blob storage": Target("blob", "/devstoreaccount1/*", "teams", "storage"),
}


@dataclass
class Turn:
    status: int
    seconds: float
    messages: list[dict[str, Any]]

    @property
    def shown(self) -> str:
        return json.dumps(self.messages)

    def has_profile_of(self, user: str) -> bool:
        return display_name(user) in json.dumps(adaptive_cards_of(self.messages))


def adaptive_cards_of(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [attachment["content"] for activity in activities for attachment in activity.get("attachments") or []
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"]


class Log:
    """The agent's log from a point on: tracebacks (at INFO and above, or printed raw) and matching lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode(errors="replace").splitlines()

    def tracebacks(self) -> list[str]:
        found = []
        for line in self.lines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line:
                    found.append(line)
                continue
            if isinstance(record, dict) and record.get("exception") and record.get("level") != "DEBUG":
                found.append(f"{record.get('logger')}: {record.get('message')}")
        return found

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines())


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteProcess]:
    """This module's own Azurite: the last test stops it."""
    process = start_azurite(free_port(), log_file=tmp_path_factory.mktemp("azurite") / "azurite.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def blob_proxy(azurite: AzuriteProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobProxyProcess]:
    process = start_blob_proxy(azurite.port, free_port(), log_file=tmp_path_factory.mktemp("proxy") / "proxy.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def matrix_agent(cloud: CloudProcess, blob_proxy: BlobProxyProcess,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    port = free_port()
    log_file = tmp_path_factory.mktemp("agent") / "agent.log"
    process = start_agent(cloud.env_file, port, log_file=log_file, extra_env={
        "STORAGE": "blob", "AZURE_STORAGE_CONNECTION_STRING": blob_proxy.connection_string,
        "AZURE_STORAGE_CONTAINER": "fault-matrix", "TURN_DEADLINE_SECONDS": str(TURN_SECONDS)})
    try:
        yield RunningAgent(f"http://127.0.0.1:{port}/api/messages", log_file)
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def signed_in(cloud: CloudProcess, matrix_agent: RunningAgent) -> AsyncIterator[None]:
    """The Teams users signed in (and the Copilot users' first turn done), signed out again at the end."""
    users: list[str] = []
    async with LocalCloudClient(cloud.url) as client:
        for user in TEAMS_USERS:
            await sign_in(client, matrix_agent.endpoint, user, users)
        for user in COPILOT_USERS:
            await client.copilot(user, "/me", agent_endpoint=matrix_agent.endpoint)
        yield
        for user in users:
            await client.teams(user, "/logout", agent_endpoint=matrix_agent.endpoint)


@pytest.fixture
async def channels(cloud: CloudProcess, blob_proxy: BlobProxyProcess, matrix_agent: RunningAgent,
                   signed_in: None) -> AsyncIterator[tuple[LocalCloudClient, LocalCloudClient]]:
    """Control clients of the local cloud and of the blob proxy; no fault before or after the test."""
    async with LocalCloudClient(cloud.url) as local, LocalCloudClient(blob_proxy.url) as blob:
        try:
            yield local, blob
        finally:
            await local.clear_faults()
            await blob.clear_faults()


async def ask(local: LocalCloudClient, agent: RunningAgent, channel: str, user: str) -> Turn:
    started = time.monotonic()
    if channel == "teams":
        sent = await local.teams(user, "/me", agent_endpoint=agent.endpoint)
        status, replies = sent.status, [reply.activity for reply in sent.replies]
    else:
        answered = await local.copilot(user, "/me", agent_endpoint=agent.endpoint)
        status, replies = answered.status, answered.replies
    seconds = time.monotonic() - started
    return Turn(status, seconds, [reply for reply in replies if reply.get("type") == "message"])


def users_of(target: Target) -> tuple[str, str]:
    return TEAMS_USERS if target.channel == "teams" else COPILOT_USERS


CASES = [(name, fault) for name in TARGETS for fault in FAULTS if (name, fault) != ("entra obo", "429")]
"""Every fault of every service but Entra's 429 to an exchange, which holds every user's (module docstring)."""


@pytest.mark.parametrize(("name", "fault"), CASES, ids=[f"{name}-{fault}" for name, fault in CASES])
async def test_a_fault_ends_the_turn_in_time_names_its_cause_and_spares_the_next_user(
    channels: tuple[LocalCloudClient, LocalCloudClient], matrix_agent: RunningAgent, name: str, fault: str
) -> None:
    local, blob = channels
    target = TARGETS[name]
    faulted, other = users_of(target)
    log = Log(matrix_agent.log_file)
    log.mark()
    await (blob if target.service == "blob" else local).add_fault(target.service, target.path, **FAULTS[fault])

    turn = await ask(local, matrix_agent, target.channel, faulted)
    await local.clear_faults()
    await blob.clear_faults()
    next_user = await ask(local, matrix_agent, target.channel, other)

    assert turn.seconds < ENDED_WITHIN
    assert turn.status in (200, 202)
    if target.cause is None:  # the reply path itself failed: nobody to tell, one line in the log
        assert not turn.messages
        assert log.count("not delivered") == 1
    else:
        assert target.cause in turn.shown
        assert "something went wrong" not in turn.shown.lower()
        if fault == "429":
            assert "30 s" in turn.shown
    assert next_user.has_profile_of(other), next_user.shown
    assert log.tracebacks() == []


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_fault_of_the_signing_key_endpoints_leaves_turns_alone(
    channels: tuple[LocalCloudClient, LocalCloudClient], matrix_agent: RunningAgent, fault: str
) -> None:
    local, _ = channels
    log = Log(matrix_agent.log_file)
    log.mark()
    await local.add_fault("botframework", "/v1/.well-known/keys", **FAULTS[fault])
    await local.add_fault("login", "/*/discovery/v2.0/keys", **FAULTS[fault])

    teams = await ask(local, matrix_agent, "teams", TEAMS_USERS[0])
    copilot = await ask(local, matrix_agent, "copilot", KEYS_COPILOT_USER)

    assert teams.seconds < ENDED_WITHIN and teams.has_profile_of(TEAMS_USERS[0])
    assert copilot.seconds < ENDED_WITHIN and copilot.has_profile_of(KEYS_COPILOT_USER)
    assert log.tracebacks() == []


async def test_a_reply_refused_three_times_is_retried_and_delivered(
    channels: tuple[LocalCloudClient, LocalCloudClient], matrix_agent: RunningAgent
) -> None:
    local, _ = channels
    user = TEAMS_USERS[0]
    log = Log(matrix_agent.log_file)
    log.mark()
    await local.add_fault("channels", "/teams/v3/conversations/*", status=500, count=3)

    turn = await ask(local, matrix_agent, "teams", user)

    assert turn.status == 202 and turn.has_profile_of(user)
    assert log.count("not delivered") == 0 and log.tracebacks() == []


async def readiness(agent: RunningAgent) -> int:
    url = agent.endpoint.replace("/api/messages", "/readyz")
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status


async def test_with_blob_storage_down_turns_apologise_in_time_and_readiness_fails_until_it_is_back(
    channels: tuple[LocalCloudClient, LocalCloudClient], matrix_agent: RunningAgent, azurite: AzuriteProcess,
    tmp_path_factory: pytest.TempPathFactory
) -> None:
    local, _ = channels
    user = TEAMS_USERS[1]
    log = Log(matrix_agent.log_file)
    log.mark()
    assert await readiness(matrix_agent) == 200
    azurite.stop()

    turn = await ask(local, matrix_agent, "teams", user)
    down = await readiness(matrix_agent)
    restarted = start_azurite(azurite.port, log_file=tmp_path_factory.mktemp("azurite-again") / "azurite.log")
    back = down
    try:
        for _ in range(30):  # readiness probes storage again at most every 5 s
            if (back := await readiness(matrix_agent)) == 200:
                break
            await asyncio.sleep(0.5)
    finally:
        restarted.stop()

    assert turn.seconds < ENDED_WITHIN and turn.status == 202
    assert "storage" in turn.shown
    assert down == 503 and back == 200
    assert log.tracebacks() == []
