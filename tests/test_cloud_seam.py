"""The cloud seam: `AGENT_CLOUD` and its overrides decide every endpoint, and the SDK follows them."""

from __future__ import annotations

import uuid

import jwt
import pytest
from microsoft_agents.activity import Activity, load_configuration_from_env
from microsoft_agents.hosting.core import ClaimsIdentity, RestChannelServiceClientFactory, TurnContext
from microsoft_agents.hosting.core.connector import UserTokenClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient

from auth.cloud import PUBLIC, USGOV, CloudConfigurationError, cloud_from_settings
from auth.connections import CloudConnectionManager, CloudMsalAuth, build_adapter, build_connections
from localcloud.launcher import CloudProcess

SERVICE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
IDENTITY = {f"{SERVICE}CLIENTID": str(uuid.uuid4()), f"{SERVICE}CLIENTSECRET": "secret",
            f"{SERVICE}TENANTID": str(uuid.uuid4())}


def test_no_settings_means_the_public_cloud() -> None:
    assert cloud_from_settings({}) == PUBLIC


def test_the_public_cloud_keeps_the_sdks_own_endpoints() -> None:
    config = load_configuration_from_env(IDENTITY)
    connections = build_connections(config, PUBLIC)
    adapter = build_adapter(connections, PUBLIC, turn_seconds=10)

    authority = connections.get_default_connection_configuration().AUTHORITY
    assert authority == f"https://login.microsoftonline.com/{IDENTITY[f'{SERVICE}TENANTID']}"
    factory = adapter._channel_service_client_factory
    assert isinstance(factory, RestChannelServiceClientFactory)
    assert factory._token_service_endpoint == PUBLIC.token_service_endpoint


def test_a_sovereign_cloud_brings_its_own_endpoints() -> None:
    cloud = cloud_from_settings({"AGENT_CLOUD": "USGov"})

    assert cloud == USGOV
    assert cloud.graph_base_url() == "https://graph.microsoft.us/v1.0"


def test_an_override_replaces_only_its_own_endpoint() -> None:
    cloud = cloud_from_settings({"GRAPH_ENDPOINT": "https://graph.contoso-proxy.example/"})

    assert cloud.graph_endpoint == "https://graph.contoso-proxy.example"
    assert cloud.login_endpoint == PUBLIC.login_endpoint


def test_an_unknown_cloud_is_refused_with_the_valid_names() -> None:
    with pytest.raises(CloudConfigurationError, match="public, usgov, usgovdod, china, local"):
        cloud_from_settings({"AGENT_CLOUD": "mars"})


def test_the_local_cloud_needs_every_endpoint() -> None:
    with pytest.raises(CloudConfigurationError, match="GRAPH_ENDPOINT"):
        cloud_from_settings({"AGENT_CLOUD": "local", "LOGIN_ENDPOINT": "https://127.0.0.1:1"})


def test_the_local_cloud_must_be_on_loopback(cloud: CloudProcess) -> None:
    settings = {**cloud.settings, "GRAPH_ENDPOINT": "https://graph.microsoft.com"}

    with pytest.raises(CloudConfigurationError, match="loopback"):
        cloud_from_settings(settings)


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(CloudConfigurationError, match="https"):
        cloud_from_settings({"GRAPH_ENDPOINT": "http://graph.microsoft.com"})


async def test_the_sdks_msal_connection_gets_a_bot_service_token_from_the_local_entra(cloud: CloudProcess) -> None:
    local = cloud_from_settings(cloud.settings)
    connections = build_connections(load_configuration_from_env(cloud.settings), local)

    token = await connections.get_default_connection().get_access_token(
        "https://api.botframework.com", ["https://api.botframework.com/.default"]
    )

    assert isinstance(connections, CloudConnectionManager)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "https://api.botframework.com"
    assert claims["azp"] == cloud.settings[f"{SERVICE}CLIENTID"]


@pytest.mark.parametrize("service_url", ["", "http://127.0.0.1:9/"], ids=["no-service-url", "teams"])
async def test_a_turn_that_gets_no_connector_client_closes_its_user_token_client(
    service_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's adapter made the turn's user token client first and closes it only once the turn runs."""
    connections = build_connections(load_configuration_from_env(IDENTITY), PUBLIC)
    adapter = build_adapter(connections, PUBLIC, turn_seconds=8)
    activity = Activity.model_validate({"type": "message", **({"serviceUrl": service_url} if service_url else {})})
    context = TurnContext(adapter, activity)
    user_token_client = UserTokenClient(endpoint="http://127.0.0.1:9/", token="t", app_id="agent")
    context.services.set(UserTokenClientBase, user_token_client)

    async def entra_is_down(*_: object, **__: object) -> str:
        raise ConnectionError("Entra ID is unreachable")

    monkeypatch.setattr(CloudMsalAuth, "get_access_token", entra_is_down)
    with pytest.raises((TypeError, ConnectionError)):
        await adapter._channel_service_client_factory.create_connector_client(
            context, ClaimsIdentity({}), service_url, "https://api.botframework.com")

    assert user_token_client.client.closed
