"""Graph faults become domain errors within the command's deadline, never a long wait or a raw SDK error."""

from __future__ import annotations

import time

import pytest

from auth.cloud import cloud_from_settings
from graph.client import DEFAULT_DEADLINE, GraphClient, SharedHttp
from graph.errors import GraphBusy, GraphRefused, GraphUnavailable, MissingPermission, SignInRequired
from graph.profile import get_profile
from localcloud.cloud import Cloud
from localcloud.faults import Fault
from tests.graph.conftest import TokenFor


def batch_fault(status: int | None = None, retry_after: int | None = None, latency_ms: int = 0,
                count: int | None = None) -> Fault:
    return Fault(service="graph", path="/v1.0/$batch", status=status, retry_after=retry_after, latency_ms=latency_ms,
                 count=count)


async def test_429_with_long_retry_after_is_graph_busy_at_once(local: Cloud, graph: GraphClient,
                                                               token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=429, retry_after=30))
    started = time.monotonic()
    with pytest.raises(GraphBusy) as raised:
        await get_profile(graph, token_for("adele"))
    assert raised.value.retry_after == 30 and time.monotonic() - started < 1


async def test_429_with_short_retry_after_is_retried(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=429, retry_after=1, count=1))
    profile = await get_profile(graph, token_for("adele"))
    assert profile.display_name == "Adele Vance" and not local.faults.list()


async def test_429_without_retry_after_that_persists_is_graph_busy_with_no_invented_wait(
        local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=429))
    with pytest.raises(GraphBusy) as raised:
        await get_profile(graph, token_for("adele"))
    assert raised.value.retry_after is None


async def test_another_4xx_is_a_refusal_carrying_its_status(local: Cloud, graph: GraphClient,
                                                            token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=404))
    with pytest.raises(GraphRefused) as raised:
        await get_profile(graph, token_for("adele"))
    assert raised.value.status == 404


async def test_503_that_persists_is_graph_unavailable(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=503))
    with pytest.raises(GraphUnavailable):
        await get_profile(graph, token_for("adele"))


async def test_401_is_sign_in_required(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    local.faults.add(batch_fault(status=401))
    with pytest.raises(SignInRequired):
        await get_profile(graph, token_for("adele"))


async def test_expired_token_is_sign_in_required(graph: GraphClient) -> None:
    with pytest.raises(SignInRequired):
        await get_profile(graph, "not-a-token")


async def test_403_on_the_profile_names_user_read(graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(MissingPermission) as raised:
        await get_profile(graph, token_for("adele", scopes=("Files.Read",)))
    assert raised.value.permission == "User.Read" and "User.Read" in str(raised.value)


async def test_slow_graph_is_unavailable_within_the_deadline(local: Cloud, graph: GraphClient,
                                                             token_for: TokenFor) -> None:
    local.faults.add(batch_fault(latency_ms=20_000, count=1))
    started = time.monotonic()
    with pytest.raises(GraphUnavailable):
        await get_profile(graph, token_for("adele"))
    assert DEFAULT_DEADLINE - 0.1 < time.monotonic() - started < DEFAULT_DEADLINE + 0.5


async def test_one_http_client_is_shared_and_reopened_after_close(local: Cloud) -> None:
    cloud = cloud_from_settings(local.agent_settings())
    http = SharedHttp(cloud)
    first = http.client()
    assert http.client() is first
    await http.aclose()
    assert http.client() is not first
    await http.aclose()
