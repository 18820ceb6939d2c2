"""Injected faults: the control API on the channels URL, each service's own error shape, and latency that ends with
its request."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from localcloud.cloud import Cloud, run_cloud
from localcloud.faults import Fault


@pytest.fixture(scope="module")
async def local(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cloud]:
    async with run_cloud(tmp_path_factory.mktemp("faults")) as running:
        yield running


def client(cloud: Cloud) -> aiohttp.ClientSession:
    """A session that trusts the cloud's CA."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=cloud.ca_file)))


@pytest.fixture
async def http(local: Cloud) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(local) as session:
        yield session
    local.faults.clear()


async def add_fault(http: aiohttp.ClientSession, local: Cloud, body: Any) -> tuple[int, Any]:
    async with http.post(f"{local.endpoints.channels}/_localcloud/faults", json=body) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("body", [
    {"path": "/x", "status": 500, "method": 5},
    {"path": "/x", "status": 500, "method": "GET /y"},
    [1],
    {"path": "/x", "status": 500, "count": 0},
    {"path": "/x", "status": True},
    {"path": "/x", "status": 200},
    {"path": "/x", "status": 500, "reset": True},
    {"path": "/x", "reset": "yes"},
    {"path": "/x", "status": 500, "lose_answer": True},
    {"service": "graph", "path": "/x", "status": 500, "stream_type": "final"},
    {"service": "channels", "path": "/x", "status": 500, "stream_type": "last"},
], ids=["method-not-a-string", "method-not-a-name", "not-an-object", "count-0", "status-bool", "status-not-an-error",
        "reset-and-status", "reset-not-a-bool", "lose-answer-and-status", "stream-type-off-the-channels",
        "stream-type-unknown"])
async def test_a_bad_fault_is_400_and_not_added(http: aiohttp.ClientSession, local: Cloud, body: Any) -> None:
    status, answer = await add_fault(http, local, body)
    assert status == 400 and isinstance(answer["error"], str)
    assert not local.faults.list()


async def test_a_fault_with_a_count_applies_that_many_times(http: aiohttp.ClientSession, local: Cloud) -> None:
    status, fault = await add_fault(http, local, {"service": "botframework", "path": "/v1/.well-known/keys",
                                                  "status": 503, "count": 1, "method": "get"})
    assert status == 201 and fault["count"] == 1
    statuses = []
    for _ in range(2):
        async with http.get(f"{local.endpoints.botframework}/v1/.well-known/keys") as response:
            statuses.append(response.status)
    assert statuses == [503, 200]


@pytest.mark.parametrize("service", ["token_service", "graph"])
async def test_a_reset_fault_drops_the_connection_without_an_answer(http: aiohttp.ClientSession, local: Cloud,
                                                                    service: str) -> None:
    name = {"token_service": "tokenservice"}.get(service, service)
    local.faults.add(Fault(service=name, path="/reset-me", reset=True))  # aiohttp retries a reset GET once by itself
    base = getattr(local.endpoints, service)

    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(f"{base}/reset-me"):
            pass
    local.faults.clear()
    async with http.get(f"{base}/reset-me") as response:  # the service itself answers again
        assert 400 <= response.status < 500


@pytest.mark.parametrize("service", ["login", "botframework", "token_service", "graph"])
async def test_the_control_api_lives_on_the_channels_url_only(http: aiohttp.ClientSession, local: Cloud,
                                                              service: str) -> None:
    base = getattr(local.endpoints, service)
    async with http.post(f"{base}/_localcloud/faults", json={"path": "/x", "status": 500}) as response:
        assert 400 <= response.status < 500
    async with http.put(f"{base}/_localcloud/tokenservice/consent-required",
                        json={"user": None, "enabled": True}) as response:
        assert 400 <= response.status < 500
    assert not local.faults.list() and not local.token_service.consent_required_for_everyone


async def test_consent_switch_on_the_channels_url_names_the_users_it_applies_to(http: aiohttp.ClientSession,
                                                                                local: Cloud) -> None:
    switch = f"{local.endpoints.channels}/_localcloud/tokenservice/consent-required"
    async with http.put(switch, json={"user": "adele", "enabled": True}) as response:
        assert (response.status, await response.json()) == (200, {"everyone": False, "users": ["adele"]})
    async with http.put(switch, json={"user": "nobody", "enabled": True}) as response:
        assert 400 <= response.status < 500
    async with http.put(switch, json={"user": "adele", "enabled": "yes"}) as response:
        assert response.status == 400
    async with http.put(switch, json={"user": None, "enabled": False}) as response:
        assert (response.status, await response.json()) == (200, {"everyone": False, "users": []})


async def test_injected_entra_error_has_entras_shape(http: aiohttp.ClientSession, local: Cloud) -> None:
    local.faults.add(Fault(service="login", path="/*/oauth2/v2.0/token", status=429, retry_after=7))
    url = f"{local.endpoints.login}/{local.tenant_id}/oauth2/v2.0/token"
    async with http.post(url, data={"grant_type": "client_credentials"}) as response:
        body = await response.json()
        assert response.status == 429 and response.headers["Retry-After"] == "7"
    assert body["error"] == "temporarily_unavailable" and body["error_codes"] == [90033]
    assert body["error_description"].startswith("AADSTS90033: ") and body["correlation_id"]


async def test_injected_error_on_the_sign_in_page_is_its_error_page(http: aiohttp.ClientSession,
                                                                    local: Cloud) -> None:
    local.faults.add(Fault(service="login", path="/*/oauth2/v2.0/authorize", status=503))
    async with http.get(f"{local.endpoints.login_ui}/{local.tenant_id}/oauth2/v2.0/authorize") as response:
        assert response.status == 503 and response.content_type == "text/html"
        assert "AADSTS90033" in await response.text()


async def test_injected_graph_error_has_graphs_shape_and_request_ids(http: aiohttp.ClientSession,
                                                                     local: Cloud) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me", status=503, retry_after=3))
    async with http.get(f"{local.endpoints.graph}/v1.0/me", headers={"client-request-id": "abc"}) as response:
        error = (await response.json())["error"]
        assert response.status == 503 and response.headers["Retry-After"] == "3"
        assert response.headers["client-request-id"] == "abc"
        assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["code"] == "serviceNotAvailable" and error["innerError"]["client-request-id"] == "abc"


@pytest.mark.parametrize(("service", "endpoint", "path"), [
    ("tokenservice", "token_service", "/api/usertoken/GetToken"),
    ("channels", "channels", "/teams/v3/conversations/a/activities"),
])
async def test_injected_bot_service_error_has_its_error_shape(http: aiohttp.ClientSession, local: Cloud,
                                                              service: str, endpoint: str, path: str) -> None:
    local.faults.add(Fault(service=service, path=path, status=500))
    async with http.post(f"{getattr(local.endpoints, endpoint)}{path}", json={}) as response:
        assert response.status == 500
        error = (await response.json())["error"]
    assert error["code"] == "ServiceError" and "innerError" not in error


async def test_a_latency_fault_ends_when_its_client_goes_away(tmp_path: Path) -> None:
    """aiohttp keeps serving a request whose client left unless told to cancel it; an injected wait would then
    hold up the cloud's shutdown for the rest of its latency."""
    async with run_cloud(tmp_path) as running:
        running.faults.add(Fault(service="botframework", path="/v1/.well-known/keys", latency_ms=5_000))
        async with client(running) as http:
            with pytest.raises(TimeoutError):
                await http.get(f"{running.endpoints.botframework}/v1/.well-known/keys",
                               timeout=aiohttp.ClientTimeout(total=0.3))
        await asyncio.sleep(0.1)
        started = time.monotonic()
    assert time.monotonic() - started < 1.5

