"""The local cloud's life cycle: starting and stopping it in process and as a child, and what it leaves behind."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref
from pathlib import Path

import pytest

from localcloud import tokenservice
from localcloud.cloud import Cloud, Endpoints, run_cloud, serve
from localcloud.launcher import start_cloud
from localcloud.pki import SigningKey
from localcloud.tenant import Directory
from localcloud.tokens import TokenIssuer


async def test_env_file_is_removed_when_serve_ends_without_a_signal(tmp_path: Path) -> None:
    """The env file holds the agent's client secret: it goes however the cloud stops, here by cancellation."""
    env_file = tmp_path / "agent.env"
    serving = asyncio.create_task(serve(env_file, tmp_path, "http://127.0.0.1:1/api/messages"))
    async with asyncio.timeout(20):
        while not env_file.exists():  # noqa: ASYNC110 - the file is the only readiness signal serve gives
            await asyncio.sleep(0.05)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert not env_file.exists()


async def test_a_stopped_cloud_is_not_kept_alive(tmp_path: Path) -> None:
    async with run_cloud(tmp_path) as running:
        stopped = weakref.ref(running)
    del running
    gc.collect()
    assert stopped() is None


async def test_the_token_service_redirect_is_registered_for_the_agent(tmp_path: Path) -> None:
    async with run_cloud(tmp_path) as running:
        assert running.directory.agent.redirect_uris == [
            f"{running.endpoints.token_service}{tokenservice.REDIRECT_PATH}"]


def test_building_the_token_service_app_leaves_the_directory_alone(tmp_path: Path) -> None:
    directory = Directory.create()
    cloud = Cloud(directory=directory, issuer=TokenIssuer(directory.tenant_id, SigningKey.generate(),
                                                          SigningKey.generate()),
                  endpoints=Endpoints(*(["http://127.0.0.1:1"] * 6)), ca_file=tmp_path / "ca.pem")
    cloud.token_service = tokenservice.TokenService(cloud)
    tokenservice.create_app(cloud)
    assert directory.agent.redirect_uris == []


def resource_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()
    return [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)]


def test_starting_a_cloud_with_a_log_file_leaves_no_file_open(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        start_cloud(tmp_path / "agent.env", log_file=tmp_path / "cloud.log").stop()
        assert resource_warnings(caught) == []


def test_a_cloud_not_ready_in_time_is_killed_and_reaped(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(TimeoutError):
            start_cloud(tmp_path / "agent.env", timeout=0)
        assert resource_warnings(caught) == []
