"""Outgoing auth: the SDK's MSAL connections and channel clients, pointed at the chosen cloud.

With the public cloud and no overrides the connections are the SDK's own `MsalConnectionManager` and the token service
is the SDK's default; the one change on every cloud is `ConnectorAwareClientFactory` (below).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import requests
from aiohttp import web
from microsoft_agents.activity import RoleTypes
from microsoft_agents.authentication.msal import MsalAuth, MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    Agent,
    AgentAuthConfiguration,
    ConnectionManager,
    RestChannelServiceClientFactory,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import (
    AccessTokenProviderBase,
    AnonymousTokenProvider,
    AuthenticationConstants,
    ClaimsIdentity,
)
from microsoft_agents.hosting.core.authorization.auth_types import AuthTypes
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.mcs import MCSConnectorClient
from msal import ConfidentialClientApplication
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url

from .cloud import PUBLIC, Cloud
from .incoming import ADMITTED_BODY, LOOPBACK_AUTHENTICATION


class _SslContextAdapter(HTTPAdapter):
    """Lets requests (MSAL's HTTP client) verify with our context, which adds `EXTRA_CA_FILE` to the system's CAs."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class CloudMsalAuth(MsalAuth):
    """`MsalAuth` whose MSAL apps trust the cloud's CA and skip instance discovery for an authority MSAL does not know.

    The SDK builds `ConfidentialClientApplication` without `http_client` or `instance_discovery`, and MSAL then asks
    login.microsoftonline.com about any unknown authority host. Only secret and certificate credentials are built here:
    the others (managed identities, federation) exist only in Azure and are left to the SDK.
    """

    def __init__(self, configuration: AgentAuthConfiguration, cloud: Cloud) -> None:
        super().__init__(configuration)
        self._cloud = cloud

    def _create_client_application(self, tenant_id: str | None = None) -> Any:
        config = self._msal_configuration
        if AuthTypes.client_secret == config.AUTH_TYPE:
            credential: Any = config.CLIENT_SECRET
        elif AuthTypes.certificate == config.AUTH_TYPE:
            credential = {"private_key_pfx_path": config.CERT_PFX_FILE, "public_certificate": bool(config.SEND_X5C)}
        else:
            return super()._create_client_application(tenant_id)
        session = requests.Session()
        session.mount("https://", _SslContextAdapter(self._cloud.ssl_context()))
        authority = MsalAuth._resolve_authority(config, tenant_id)
        return ConfidentialClientApplication(
            client_id=config.CLIENT_ID,
            authority=authority,
            client_credential=credential,
            azure_region=MsalAuth._resolve_azure_region(config),
            http_client=session,
            instance_discovery=parse_url(authority).host in WELL_KNOWN_AUTHORITY_HOSTS,
        )


class CloudConnectionManager(ConnectionManager):
    """MSAL connections for a non-public cloud.

    A loopback request to a local cloud (the Agents Playground) carries no token, so replies to it carry none either;
    the token service still gets the agent's real token, since it checks it.
    """

    def __init__(self, cloud: Cloud, **config: Any) -> None:
        super().__init__(provider_factory=lambda settings: CloudMsalAuth(settings, cloud), **config)
        self._cloud = cloud

    def get_token_provider(self, claims_identity: ClaimsIdentity, service_url: str) -> AccessTokenProviderBase:
        if (
            claims_identity.authentication_type == LOOPBACK_AUTHENTICATION
            and service_url.rstrip("/") != self._cloud.token_service_endpoint
        ):
            return AnonymousTokenProvider()
        return super().get_token_provider(claims_identity, service_url)


def _with_authority(config: dict[str, Any], cloud: Cloud) -> dict[str, Any]:
    """Point every connection that names no AUTHORITY at the cloud's login endpoint."""
    connections = {
        name: {**connection, "SETTINGS": dict(connection.get("SETTINGS", {}))}
        for name, connection in config.get("CONNECTIONS", {}).items()
    }
    for connection in connections.values():
        settings = connection["SETTINGS"]
        if not settings.get("AUTHORITY") and settings.get("TENANTID"):
            settings["AUTHORITY"] = cloud.authority(settings["TENANTID"])
    return {**config, "CONNECTIONS": connections}


def build_connections(config: dict[str, Any], cloud: Cloud) -> ConnectionManager:
    """The SDK's connection manager for `config` (from `load_configuration_from_env`) in `cloud`."""
    if cloud == PUBLIC:
        return MsalConnectionManager(**config)
    config = _with_authority(config, cloud)
    login_host = parse_url(cloud.login_endpoint).host
    if cloud.extra_ca_file or login_host not in WELL_KNOWN_AUTHORITY_HOSTS:
        return CloudConnectionManager(cloud, **config)
    return MsalConnectionManager(**config)


class ConnectorAwareClientFactory(RestChannelServiceClientFactory):
    """The SDK's channel clients, without asking Entra for tokens a Copilot Studio connector request never uses.

    For a `connectoruser` request the SDK still gets a token before it returns the token-less MCS client, and it asks
    for it by the caller's `azp`: when that is not the agent, Entra refuses and the request ends in a 500 before any
    route runs. Here the MCS client needs no token, and the token service is called with the agent's own Bot Service
    token, so a bad connector token reaches the agent's handler, which answers it plainly.
    """

    async def create_connector_client(self, context: TurnContext | None, claims_identity: ClaimsIdentity,
                                      service_url: str, audience: str, scopes: list[str] | None = None,
                                      use_anonymous: bool = False) -> ConnectorClientBase:
        if context is not None and is_connector_request(context):
            return MCSConnectorClient(endpoint=service_url)
        return await super().create_connector_client(context, claims_identity, service_url, audience, scopes,
                                                     use_anonymous)

    async def create_user_token_client(self, context: TurnContext, claims_identity: ClaimsIdentity,
                                       use_anonymous: bool = False) -> UserTokenClient:
        if is_connector_request(context):
            agent = ClaimsIdentity({AuthenticationConstants.AUDIENCE_CLAIM: claims_identity.get_app_id()},
                                   authentication_type=claims_identity.authentication_type)
            return await super().create_user_token_client(context, agent, use_anonymous)
        return await super().create_user_token_client(context, claims_identity, use_anonymous)


def is_connector_request(context: TurnContext) -> bool:
    """A request from Copilot Studio's agent-to-agent connector (the SDK knows it only by the recipient's role)."""
    recipient = context.activity.recipient
    return recipient is not None and recipient.role == RoleTypes.connector_user


def is_service_principal_call(context: TurnContext) -> bool:
    """A connector request whose token is an app's, not a signed-in user's (no `scp`): a Copilot Studio connection
    set up with a service principal. It has no user to read Microsoft 365 for, nor anything to exchange."""
    return is_connector_request(context) and context.identity is not None and "scp" not in context.identity.claims


class _AdmittedRequest:
    """The request as the SDK's adapter reads it (`HttpRequestProtocol`), with the body `auth.incoming` admitted:
    parsed once, and on Copilot Studio's connector with the token's user as `from`."""

    def __init__(self, request: web.Request) -> None:
        self._request = request

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        return self._request[ADMITTED_BODY]

    def get_claims_identity(self) -> ClaimsIdentity | None:
        return self._request.get("claims_identity")

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


class AgentAdapter(CloudAdapter):
    """The SDK's aiohttp adapter, run only on requests `auth.incoming.authenticated` admitted."""

    async def process(self, request: web.Request, agent: Agent) -> web.Response | None:
        return self._to_aiohttp_response(await self.process_request(_AdmittedRequest(request), agent))


def build_adapter(connections: ConnectionManager, cloud: Cloud) -> AgentAdapter:
    token_service = {} if cloud.token_service_endpoint == PUBLIC.token_service_endpoint else {
        "token_service_endpoint": cloud.token_service_endpoint}
    factory = ConnectorAwareClientFactory(connections, **token_service)
    return AgentAdapter(connection_manager=connections, channel_service_client_factory=factory)
