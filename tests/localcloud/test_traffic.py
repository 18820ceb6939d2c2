"""The local cloud counts the requests each service answers (`GET/DELETE /_localcloud/traffic`), by route, and
Entra's token requests by grant and grantee, for tests and benchmarks."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.tenant import GRAPH_RESOURCE, USERS
from localcloud.traffic import route_path

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture
async def http(threaded_cloud: Cloud) -> AsyncIterator[aiohttp.ClientSession]:
    context = ssl.create_default_context(cafile=str(threaded_cloud.ca_file))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield session


async def _traffic(http: aiohttp.ClientSession, cloud: Cloud) -> dict[str, Any]:
    return await LocalCloudClient(cloud.endpoints.channels, http).traffic_and_grants()


def _count(traffic: dict[str, Any], service: str, method: str, path: str) -> int:
    return sum(row["count"] for row in traffic["requests"]
               if (row["service"], row["method"], row["path"]) == (service, method, path))


async def _on_behalf_of(http: aiohttp.ClientSession, cloud: Cloud, assertion: str) -> int:
    agent = cloud.directory.agent
    form = {"grant_type": JWT_BEARER, "requested_token_use": "on_behalf_of", "client_id": agent.client_id,
            "client_secret": agent.secret or "", "assertion": assertion, "scope": f"{GRAPH_RESOURCE}/.default"}
    async with http.post(f"{cloud.endpoints.login}/{cloud.tenant_id}/oauth2/v2.0/token", data=form) as response:
        return response.status


async def test_on_behalf_of_requests_are_counted_per_user_under_the_token_route(
    threaded_cloud: Cloud, http: aiohttp.ClientSession
) -> None:
    agent, user = threaded_cloud.directory.agent, USERS[1]
    assertion = threaded_cloud.issuer.entra_token(audience=agent.client_id, client_id=agent.client_id, user=user,
                                                  scopes=["access_as_user"])
    before = await _traffic(http, threaded_cloud)

    assert [await _on_behalf_of(http, threaded_cloud, assertion) for _ in range(2)] == [200, 200]
    after = await _traffic(http, threaded_cloud)
    assert after["entra_grants"][JWT_BEARER][user.id] == before["entra_grants"].get(JWT_BEARER, {}).get(user.id, 0) + 2
    token_route = ("login", "POST", "/{tenant}/oauth2/v2.0/token")
    assert _count(after, *token_route) == _count(before, *token_route) + 2


async def test_delete_starts_the_counts_afresh_and_the_control_api_is_never_counted(
    threaded_cloud: Cloud, http: aiohttp.ClientSession
) -> None:
    async with http.delete(f"{threaded_cloud.endpoints.channels}/_localcloud/traffic") as response:
        assert response.status == 204
    async with http.get(f"{threaded_cloud.endpoints.channels}/_localcloud/endpoints") as response:
        assert response.status == 200

    assert await _traffic(http, threaded_cloud) == {"requests": [], "entra_grants": {}}


@pytest.mark.parametrize(("path", "match_info", "expected"), [
    ("/teams/v3/conversations/a:1xyz/activities/123", {"cid": "a:1xyz", "aid": "123"},
     "/teams/v3/conversations/{cid}/activities/{aid}"),
    ("/api/usertoken/GetToken", {"path": "api/usertoken/GetToken"}, "/api/usertoken/GetToken"),
], ids=["named-parts", "catch-all-route"])
def test_a_path_names_the_variable_parts_of_its_route(path: str, match_info: dict[str, str], expected: str) -> None:
    assert route_path(make_mocked_request("POST", path, match_info=match_info)) == expected
