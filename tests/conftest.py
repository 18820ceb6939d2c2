"""Shared fixtures: one local cloud per test session, started as its own process and stopped by PID."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import queue
import re
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from localcloud.channels import teams_user_id
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud, run_cloud
from localcloud.launcher import (
    AGENT_LOG_LEVEL,
    AzuriteProcess,
    CloudProcess,
    free_port,
    start_agent,
    start_azurite,
    start_cloud,
)
from localcloud.tenant import USERS
from tests.support import RunningAgent

SERVER_FIXTURES = frozenset({"cloud", "agent", "azurite", "image"})
"""Fixtures that start a server process (the local cloud, an agent, Azurite, the container's CMD), directly or through
the fixtures they use."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `servers` every test that starts a server process, so `make check` (`-m "not servers"`) leaves it out:
    those that use a server fixture, drive Chromium or the Playground, or say so themselves."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) or any(
                item.get_closest_marker(name) for name in ("browser", "playground")):
            item.add_marker(pytest.mark.servers)


ISSUED_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
"""A JWT as the local cloud issues them (JSON header, JSON claims, signature)."""


class _Leaks(logging.Handler):
    """Notes which logger emitted each in-process record carrying a token (where, never what)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.loggers: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if ISSUED_TOKEN.search(self.format(record)):
            self.loggers.append(record.name)


@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fails the session if a token shows in a log: any record this process emits, and any line of a `*.log` file
    the tests' child processes wrote under the session's temporary folder. Both are at DEBUG, where MSAL, aiohttp and
    the SDK log headers and token responses: this process's root logger for the session (a test's `caplog` may
    lower it for a while), and every agent the launcher starts. Names where, never what (the failure message must
    not leak the token either)."""
    root = logging.getLogger()
    leaks = _Leaks()
    level = root.level
    root.addHandler(leaks)
    root.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as environment:
            environment.setenv(AGENT_LOG_LEVEL, "DEBUG")
            yield
    finally:
        root.setLevel(level)
        root.removeHandler(leaks)
    found = [f"in-process record of logger {name!r}" for name in leaks.loggers]
    for log_file in sorted(tmp_path_factory.getbasetemp().rglob("*.log")):
        for number, line in enumerate(log_file.read_text(errors="replace").splitlines(), 1):
            if ISSUED_TOKEN.search(line):
                found.append(f"{log_file}:{number}")
    assert not found, f"{len(found)} log lines carry a token: {', '.join(found[:20])}"


PERSONAL_DATA = {value: f"{kind} of {user.username}" for user in USERS for kind, value in (
    ("the display name", user.display_name), ("the UPN", user.user_principal_name), ("the mail", user.mail),
    ("the object id", user.id), ("the Teams id", teams_user_id(user))) if value}
"""What identifies a seeded user, and what to call it in a failure message (never the value itself)."""
_PERSONAL = re.compile("|".join(re.escape(value) for value in sorted(PERSONAL_DATA, key=len, reverse=True)))
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
"""A run that may be base64 (the token service's `state` is base64 JSON carrying a name and an object id)."""


def personal_data_in(line: str) -> set[str]:
    """What `line` reveals of a seeded user, as is or base64-encoded."""
    decoded = []
    for run in _BASE64.findall(line):
        try:
            decoded.append(base64.urlsafe_b64decode(run.replace("+", "-").replace("/", "_") + "==").decode(
                errors="ignore"))
        except (binascii.Error, ValueError):
            continue
    return {PERSONAL_DATA[found] for text in (line, *decoded) for found in _PERSONAL.findall(text)}


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_agent_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fails the session if the log of an agent the tests ran (`agent*.log`, at DEBUG, without LOG_PERSONAL_DATA)
    names a seeded user: display name, UPN, mail, object id or Teams id, plainly or base64-encoded. Names where and
    what kind, never the value."""
    yield
    found = [f"{log_file}:{number} ({', '.join(sorted(kinds))})"
             for log_file in sorted(tmp_path_factory.getbasetemp().rglob("agent*.log"))
             for number, line in enumerate(log_file.read_text(errors="replace").splitlines(), 1)
             if (kinds := personal_data_in(line))]
    assert not found, f"{len(found)} agent log lines carry personal data: {'; '.join(found[:20])}"


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """A running local cloud; `cloud.settings` holds the agent settings it wrote (AGENT_CLOUD=local)."""
    directory = tmp_path_factory.mktemp("localcloud")
    process = start_cloud(directory / "agent.env", log_file=directory / "localcloud.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def ca_file(cloud: CloudProcess) -> Path:
    return Path(cloud.settings["EXTRA_CA_FILE"])


@pytest.fixture(scope="session")
def client_ssl(ca_file: Path) -> ssl.SSLContext:
    """Trusts the local cloud's CA, for clients that talk to its https endpoints."""
    return ssl.create_default_context(cafile=str(ca_file))


@pytest.fixture(scope="session")
def threaded_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A local cloud on its own event loop in a thread of the test process, for tests that mint tokens with its keys.

    Its own loop matters: MSAL blocks whatever loop builds it, so the cloud must never share the agent's loop.
    """
    ready: queue.Queue[tuple[Cloud, asyncio.AbstractEventLoop, asyncio.Event] | BaseException] = queue.Queue()

    async def serve() -> None:
        try:
            stopped = asyncio.Event()
            async with run_cloud(tmp_path_factory.mktemp("threaded-cloud")) as running:
                ready.put((running, asyncio.get_running_loop(), stopped))
                await stopped.wait()
        except BaseException as error:  # handed to the test thread, which raises it
            ready.put(error)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    started = ready.get(timeout=30)
    if isinstance(started, BaseException):
        raise started
    running, loop, stopped = started
    try:
        yield running
    finally:
        loop.call_soon_threadsafe(stopped.set)
        thread.join(timeout=10)


@pytest.fixture(scope="module")
async def in_process_agent(threaded_cloud: Cloud) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The agent (`bot.create_app`) served in the test process on the threaded cloud's settings, one per module."""
    from bot import create_app  # the whole agent: imported by the modules that ask for it, not by every test run

    client = TestClient(TestServer(create_app(threaded_cloud.agent_settings()), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture(scope="module")
def agent(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    """`python bot.py` in its own process on the session's local cloud, one per test module."""
    port = free_port()
    log_file = tmp_path_factory.mktemp("agent") / "agent.log"
    process = start_agent(cloud.env_file, port, log_file=log_file)
    try:
        yield RunningAgent(f"http://127.0.0.1:{port}/api/messages", log_file)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def agent_endpoint(agent: RunningAgent) -> str:
    return agent.endpoint


@pytest.fixture(scope="module")
async def client(cloud: CloudProcess) -> AsyncIterator[LocalCloudClient]:
    """The local cloud's control API: sends activities as a channel would and reads what the agent answered."""
    async with LocalCloudClient(cloud.url) as local:
        yield local


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteProcess]:
    """Azure Blob Storage on loopback (Azurite, in memory); tests keep apart by using containers of their own."""
    process = start_azurite(free_port(), log_file=tmp_path_factory.mktemp("azurite") / "azurite.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def azurite_with_entra(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteProcess]:
    """Azurite over https with the local cloud's certificate, taking Entra ID bearer tokens (`--oauth basic`), as a
    storage account whose shared keys are disabled is reached."""
    state = Path(cloud.settings["EXTRA_CA_FILE"]).parent
    process = start_azurite(free_port(), log_file=tmp_path_factory.mktemp("azurite-entra") / "azurite.log",
                            tls=(state / "server.pem", state / "server-key.pem"))
    try:
        yield process
    finally:
        process.stop()
