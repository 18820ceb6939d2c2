"""Shared fixtures: one local cloud per test session, started as its own process and stopped by PID."""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.cloud import Cloud, run_cloud
from localcloud.launcher import AzuriteProcess, CloudProcess, free_port, start_agent, start_azurite, start_cloud
from tests.support import RunningAgent

ISSUED_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
"""A JWT as the local cloud issues them (JSON header, JSON claims, signature)."""


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fails the session if a token shows in a log: every record this process emits (at the levels in force, so
    the tests' own `caplog` levels count), and every `*.log` file the tests' child processes wrote under the
    session's temporary folder. Names where, never what (the failure message must not leak the token either)."""
    records = _Records()
    logging.getLogger().addHandler(records)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(records)
    leaks = [f"in-process record {number}" for number, line in enumerate(records.lines, 1) if ISSUED_TOKEN.search(line)]
    for log_file in sorted(tmp_path_factory.getbasetemp().rglob("*.log")):
        for number, line in enumerate(log_file.read_text(errors="replace").splitlines(), 1):
            if ISSUED_TOKEN.search(line):
                leaks.append(f"{log_file}:{number}")
    assert not leaks, f"{len(leaks)} log lines carry a token: {', '.join(leaks[:20])}"


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


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteProcess]:
    """Azure Blob Storage on loopback (Azurite, in memory); tests keep apart by using containers of their own."""
    process = start_azurite(free_port(), log_file=tmp_path_factory.mktemp("azurite") / "azurite.log")
    try:
        yield process
    finally:
        process.stop()
