"""Shared fixtures: one local cloud per test session, started as its own process and stopped by PID."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.launcher import CloudProcess, start_cloud


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
