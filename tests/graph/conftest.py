"""The agent's Graph layer against a local cloud running in this test process, with tokens minted by its issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from auth.cloud import cloud_from_settings
from graph.client import GraphClient, SharedHttp
from localcloud.cloud import Cloud, run_cloud
from localcloud.tenant import AGENT_GRAPH_SCOPES, GRAPH_RESOURCE

TokenFor = Callable[..., str]


@pytest.fixture(scope="package")
async def local(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cloud]:
    async with run_cloud(tmp_path_factory.mktemp("graph-layer")) as running:
        yield running


@pytest.fixture(scope="package")
async def graph(local: Cloud) -> AsyncIterator[GraphClient]:
    cloud = cloud_from_settings(local.agent_settings())
    client = GraphClient(cloud, SharedHttp(cloud))
    client.warm_up()
    yield client
    await client.aclose()


@pytest.fixture
def token_for(local: Cloud) -> TokenFor:
    """`token_for("adele", scopes=...)`: a delegated Graph token for that seeded user."""

    def mint(name: str, scopes: tuple[str, ...] = AGENT_GRAPH_SCOPES) -> str:
        user = local.directory.user_by_name(name)
        assert user is not None
        return local.issuer.entra_token(audience=GRAPH_RESOURCE, client_id=local.directory.agent.client_id,
                                        user=user, scopes=scopes)

    return mint


@pytest.fixture(autouse=True)
def no_faults_left(local: Cloud) -> Iterator[None]:
    yield
    local.faults.clear()
