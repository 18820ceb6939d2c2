"""Outgoing auth: the SDK's MSAL connections and channel clients, pointed at the chosen cloud.

With the public cloud and no overrides the endpoints are the SDK's own. On every cloud the MSAL apps are
`CloudMsalAuth`'s (the turn's deadline, Entra's faults named, its throttling told to each user it holds) and the channel
clients `ConnectorAwareClientFactory`'s (below).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, cast

import requests
from aiohttp import ClientSession, web
from microsoft_agents.authentication.msal import MsalAuth
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
from microsoft_agents.hosting.core.connector import ConnectorClientBase, UserTokenClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.mcs import MCSConnectorClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from microsoft_agents.hosting.core.http import HttpResponse
from msal import ConfidentialClientApplication, ManagedIdentityClient, UserAssignedManagedIdentity
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from msal.exceptions import MsalServiceError
from urllib3.util import parse_url

from hosting.adapter import TurnAdapter

from .channel_http import ChannelHttp
from .cloud import Cloud
from .entra_http import AppThrottle, EntraCall, MsalHttp, entra_call, note_lifetime
from .entra_http import unavailable as entra_unavailable
from .incoming import ADMITTED_ACTIVITY, Path, admitted_path
from .token_cache import TokenCache, on_behalf_of_key

log = logging.getLogger(__name__)

OWN_TOKEN_WARM_UP_SECONDS = 5.0
"""How long readiness waits for the agent's own token at start before it serves anyway (Entra may be slow)."""

FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
"""The resource a managed identity's token is asked for when it serves as an app registration's credential."""
OWN_TOKENS = 16
"""The agent's own tokens kept, one per audience and scopes (Bot Service, the token service, a skill's caller)."""


class CloudMsalAuth(MsalAuth):
    """`MsalAuth` whose MSAL apps run inside the turn: bounded by its deadline, failing with the fault Entra gave (when
    throttled, with the time left, `auth.entra_http`); they also trust the cloud's CA and skip instance discovery for an
    authority MSAL does not know. An on-behalf-of token is reused for the same assertion until shortly before it expires
    (`auth.token_cache`), as MSAL Python does not.

    The SDK builds `ConfidentialClientApplication` without `http_client`, `http_cache` or `instance_discovery`, and
    MSAL then asks login.microsoftonline.com about any unknown authority host. Secret, certificate and federated
    credentials are built here; with `FederatedCredentials` the assertion is the managed identity's token for
    `api://AzureADTokenExchange`, asked of the host's identity endpoint as the SDK asks it (a local cloud serves one,
    `localcloud.identity`). Managed identities as the agent's own identity are left to the SDK.
    """

    def __init__(self, configuration: AgentAuthConfiguration, cloud: Cloud) -> None:
        super().__init__(configuration)
        self._cloud = cloud
        self._on_behalf_of = TokenCache()
        self._own_tokens = TokenCache(size=OWN_TOKENS)

    def _create_client_application(self, tenant_id: str | None = None) -> Any:
        config = self.configuration
        if AuthTypes.client_secret == config.AUTH_TYPE:
            credential: Any = config.CLIENT_SECRET
        elif AuthTypes.certificate == config.AUTH_TYPE:
            credential = {"private_key_pfx_path": config.CERT_PFX_FILE, "public_certificate": bool(config.SEND_X5C)}
        elif AuthTypes.federated_credentials == config.AUTH_TYPE:
            credential = {"client_assertion": _managed_identity_assertion(config.FEDERATED_CLIENT_ID or "")}
        else:
            return super()._create_client_application(tenant_id)
        authority = msal_authority(config, tenant_id)
        return _ConfidentialClient(
            client_id=config.CLIENT_ID,
            authority=authority,
            client_credential=credential,
            azure_region=msal_azure_region(config),
            http_client=MsalHttp(self._cloud.ssl_context()),
            http_cache=AppThrottle(),
            instance_discovery=parse_url(authority).host in WELL_KNOWN_AUTHORITY_HOSTS,
        )

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        """The agent's own token (client credentials), or the fault Entra answered with. MSAL serves it from its cache
        too, but the SDK asks in a thread twice a turn (the channel's and the token service's): here it is kept until
        shortly before it expires (`auth.token_cache`), read from the SDK's `_get_access_token`, which returns it with
        its expiry."""
        key = "\n".join([resource_url, *scopes])
        cached = None if force_refresh else self._own_tokens.get(key)
        if cached is not None:
            return cached
        with entra_call() as call:
            try:
                token = await self._get_access_token(resource_url, scopes, force_refresh)
            except (ValueError, MsalServiceError, requests.RequestException) as error:
                raise _fault(call, error) from None
        self._own_tokens.put(key, token.token, token.expires_on - time.time())
        return token.token

    async def acquire_token_on_behalf_of(self, scopes: list[str], user_assertion: str) -> str:
        """The user's token for `scopes`: the one Entra gave for this same assertion while it is still good
        (`auth.token_cache`), else a new exchange, or the fault Entra answered with (its throttling holds every user's
        exchange: `auth.entra_http.AppThrottle`)."""
        key = on_behalf_of_key(user_assertion, scopes)
        cached = self._on_behalf_of.get(key)
        if cached is not None:
            return cached
        with entra_call() as call:
            try:
                token = await super().acquire_token_on_behalf_of(scopes, user_assertion)
            except (ValueError, MsalServiceError, requests.RequestException) as error:
                raise _fault(call, error) from None
        self._on_behalf_of.put(key, token, call.expires_in)
        return token


_TENANT_SEGMENT = re.compile(
    r"/(?:common|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?=/|$)")
"""The tenant in an authority's path that a request's own tenant replaces: `common` or a tenant id."""


def msal_authority(config: AgentAuthConfiguration, tenant_id: str | None = None) -> str:
    """The authority of MSAL's app for `tenant_id` (None: the connection's own), as SDK 1.9's private
    `MsalAuth._resolve_authority` and `_resolve_tenant_id` give it (`authentication/msal/msal_auth.py`): the tenant
    asked for, else the configured one unless it is `common`, replaces `common` or a tenant id in `AUTHORITY`.
    `tests/test_sdk_equivalents.py` holds the two to the same results."""
    configured = config.TENANT_ID or ""
    if not (tenant_id or configured):
        raise ValueError("TENANT_ID is not set in the configuration.")
    tenant = tenant_id or ("" if configured.lower() == "common" else configured)
    if not tenant:
        return config.AUTHORITY or f"https://login.microsoftonline.com/{configured}"
    if config.AUTHORITY:
        return _TENANT_SEGMENT.sub(f"/{tenant}", config.AUTHORITY)
    return f"https://login.microsoftonline.com/{tenant}"


def msal_azure_region(config: AgentAuthConfiguration) -> str | None:
    """The regional token service (ESTS-R) MSAL's app asks, None for the global one, as the SDK 1.9's private
    `MsalAuth._resolve_azure_region` has it: `AZUREREGION` (or `REGIONALAUTHORITY`) unless blank."""
    region = config.AZURE_REGION
    return region if region and region.strip() else None


def _managed_identity_assertion(client_id: str) -> Callable[[], str]:
    """What MSAL calls for a fresh client assertion: the user-assigned managed identity's token for the federation
    audience, which the app registration's federated credential trusts (the SDK's own FederatedCredentials flow;
    https://learn.microsoft.com/microsoft-365/agents-sdk/azure-bot-create-federated-credentials)."""
    identity = ManagedIdentityClient(UserAssignedManagedIdentity(client_id=client_id), http_client=requests.Session())

    def assertion() -> str:
        result = identity.acquire_token_for_client(resource=FEDERATION_AUDIENCE)
        if "access_token" not in result:
            raise ValueError(f"The managed identity {client_id} got no token for {FEDERATION_AUDIENCE}: "
                             f"{result.get('error_description') or result.get('error')}")
        return result["access_token"]

    return assertion


class _ConfidentialClient(ConfidentialClientApplication):
    """MSAL's app, noting on the `EntraCall` how long an on-behalf-of token lives: the SDK hands on only the token."""

    def acquire_token_on_behalf_of(self, user_assertion: str, scopes: list[str], *args: Any,
                                   **kwargs: Any) -> dict[str, Any]:
        result = super().acquire_token_on_behalf_of(user_assertion, scopes, *args, **kwargs)
        note_lifetime(result.get("expires_in"))
        return result


def _fault(call: EntraCall, error: Exception) -> Exception:
    """What a failed token acquisition raises: Entra's fault when it failed (throttled, 5xx, timeout, reset), else
    MSAL's or the SDK's own error (a refused token, which the sign-in handlers answer)."""
    if call.fault is not None:
        return call.fault
    if isinstance(error, requests.RequestException):
        return entra_unavailable()
    return error


class CloudConnectionManager(ConnectionManager):
    """The SDK's connection manager with `CloudMsalAuth` connections.

    A loopback request to a local cloud (the Agents Playground) carries no token, so replies to it carry none either;
    the token service still gets the agent's real token, since it checks it.
    """

    def __init__(self, cloud: Cloud, **config: Any) -> None:
        super().__init__(provider_factory=lambda settings: CloudMsalAuth(settings, cloud), **config)
        self._cloud = cloud

    def get_token_provider(self, claims_identity: ClaimsIdentity, service_url: str) -> AccessTokenProviderBase:
        if (
            admitted_path(claims_identity) is Path.LOOPBACK
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
    """The SDK's connections for `config` (from `load_configuration_from_env`) in `cloud`, with `CloudMsalAuth`'s MSAL
    apps on every cloud: the turn's deadline and Entra's faults told to the user matter on the public cloud too."""
    return CloudConnectionManager(cloud, **_with_authority(config, cloud))


class ConnectorAwareClientFactory(RestChannelServiceClientFactory):
    """The SDK's channel clients on sessions of `auth.channel_http` (the turn's deadline, faults named, replies
    retried), built once per endpoint for the process, without asking Entra for tokens a Copilot Studio connector
    request never uses.

    SDK 1.9's factory builds a connector client and a token-service client, each on a new aiohttp session with its own
    connection pool, on every turn (and each looks up the SDK's version in the installed packages for its User-Agent).
    Here each client is built once per endpoint (and audience) and kept, at most `CLIENTS` of them; the adapter's
    `close()` after each turn leaves it open, and `aclose` closes all on app cleanup. The agent's own token, the same
    for every user of an endpoint, is set on the client's session each turn, so a refreshed token is used at once.

    For a `connectoruser` request the SDK still gets a token before it returns the token-less MCS client, and it asks
    for it by the caller's `azp`: when that is not the agent, Entra refuses and the request ends in a 500 before any
    route runs. Here the MCS client needs no token, and the token service is called with the agent's own Bot Service
    token, so a bad connector token reaches the agent's handler, which answers it plainly. Agentic requests keep the
    SDK's own clients (its agentic tokens are the base class's), so this derives from the SDK's factory, yet keeps its
    own copies of what that one holds in private attributes.
    """

    CLIENTS: int = 256
    TOKEN_SERVICE_AUDIENCE: str = AuthenticationConstants.AGENTS_SDK_SCOPE
    """The resource the agent's token for the token service is asked for: the SDK's default on every cloud."""

    def __init__(self, connection_manager: ConnectionManager, cloud: Cloud, token_service_endpoint: str) -> None:
        super().__init__(connection_manager, token_service_endpoint, self.TOKEN_SERVICE_AUDIENCE)
        self._connections = connection_manager
        self._token_service = token_service_endpoint
        self._http = ChannelHttp(cloud.ssl_context())
        self._clients: OrderedDict[tuple[str, ...], _KeptClient] = OrderedDict()

    async def create_connector_client(self, context: TurnContext | None, claims_identity: ClaimsIdentity,
                                      service_url: str, audience: str, scopes: list[str] | None = None,
                                      use_anonymous: bool = False) -> ConnectorClientBase:
        """The SDK's adapter asks for this after it made the turn's user token client, and closes that one only once
        the turn runs: if no connector client can be made, the turn never runs, so it is closed here (a kept client's
        `close` does nothing; the SDK's own, for agentic requests, is closed)."""
        try:
            if admitted_path(claims_identity) is Path.CONNECTOR:
                return self._kept(("mcs", service_url), "",
                                  lambda: _KeptMcsClient(service_url, self._http.connector_session(None)))
            if not service_url or (context is not None and context.activity.is_agentic_request()):
                return await super().create_connector_client(context, claims_identity, service_url, audience, scopes,
                                                             use_anonymous)
            provider = (AnonymousTokenProvider() if use_anonymous
                        else self._connections.get_token_provider(claims_identity, service_url))
            scopes = scopes or claims_identity.get_token_scope()
            token = await provider.get_access_token(audience, scopes)
            return self._kept(("connector", service_url, audience, *scopes, _signed(token)), token,
                              lambda: _KeptConnectorClient(service_url, self._http.connector_session(service_url)))
        except BaseException:
            user_token_client = context.services.get(UserTokenClientBase) if context is not None else None
            if user_token_client is not None:
                await user_token_client.close()
            raise

    async def create_user_token_client(self, context: TurnContext, claims_identity: ClaimsIdentity,
                                       use_anonymous: bool = False) -> UserTokenClient:
        if admitted_path(claims_identity) is Path.CONNECTOR:
            claims_identity = ClaimsIdentity({AuthenticationConstants.AUDIENCE_CLAIM: claims_identity.get_app_id()},
                                             authentication_type=claims_identity.authentication_type)
        if context.activity.is_agentic_request():
            return await super().create_user_token_client(context, claims_identity, use_anonymous)
        token = ""
        if not use_anonymous:
            provider = self._connections.get_token_provider(claims_identity, self._token_service)
            token = await provider.get_access_token(self.TOKEN_SERVICE_AUDIENCE, claims_identity.get_token_scope())
        app_id, endpoint = claims_identity.get_app_id() or "", self._token_service
        return self._kept(("tokens", endpoint, app_id, _signed(token)), token, lambda: _KeptUserTokenClient(
            app_id, endpoint, self._http.token_service_session(endpoint)))

    def _kept(self, key: tuple[str, ...], token: str, build: Callable[[], _ClientT]) -> _ClientT:
        """The client kept for `key` (built now if there is none), carrying `token`; the least recently used goes
        when there are more than `CLIENTS`."""
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = build()
            while len(self._clients) > self.CLIENTS:
                _, dropped = self._clients.popitem(last=False)
                self._http.retire(dropped.session)
        self._clients.move_to_end(key)
        if token:
            client.session.headers["Authorization"] = f"Bearer {token}"
        return cast(_ClientT, client)

    async def warm_up(self) -> None:
        """Before the first turn, off the event loop: MSAL's app for the agent's connection (its constructor asks
        Entra's discovery endpoint and blocks, which would otherwise hold up the first turn's loop), then the agent's
        own Bot Service token. Best effort: a failure is logged, and the first turn asks again."""
        connection = self._connections.get_default_connection()
        try:
            async with asyncio.timeout(OWN_TOKEN_WARM_UP_SECONDS):
                if isinstance(connection, CloudMsalAuth):
                    await asyncio.to_thread(connection._get_client)
                await connection.get_access_token(self.TOKEN_SERVICE_AUDIENCE, ClaimsIdentity({}).get_token_scope())
        except Exception as error:  # any failure here only means a slower first turn
            log.warning("Could not get the agent's own token at start; the first turn will: %r", error)

    async def aclose(self) -> None:
        self._clients.clear()
        await self._http.aclose()


def _signed(token: str) -> str:
    """Clients with and without the agent's token are kept apart (a loopback request's replies carry none)."""
    return "signed" if token else "anonymous"


class _KeptClient(Protocol):
    @property
    def session(self) -> ClientSession: ...


class _KeptConnectorClient(TeamsConnectorClient):
    """The SDK's Bot Connector client, kept for the process: the adapter's `close()` after a turn leaves it open."""

    def __init__(self, endpoint: str, session: ClientSession) -> None:
        super().__init__(endpoint=endpoint, token="", session=session)
        self.session = session

    async def close(self) -> None:
        """Closed with the app (`ConnectorAwareClientFactory.aclose`)."""


class _KeptUserTokenClient(UserTokenClient):
    """The SDK's token-service client, kept for the process like `_KeptConnectorClient`."""

    def __init__(self, app_id: str, endpoint: str, session: ClientSession) -> None:
        super().__init__(app_id=app_id, endpoint=endpoint, token="", session=session)
        self.session = session

    async def close(self) -> None:
        """Closed with the app (`ConnectorAwareClientFactory.aclose`)."""


class _KeptMcsClient(MCSConnectorClient):
    """The SDK's client of Copilot Studio's callback, kept for the process like `_KeptConnectorClient`."""

    def __init__(self, endpoint: str, session: ClientSession) -> None:
        super().__init__(endpoint=endpoint, client=session)
        self.session = session

    async def close(self) -> None:
        """Closed with the app (`ConnectorAwareClientFactory.aclose`)."""


_ClientT = TypeVar("_ClientT", _KeptConnectorClient, _KeptUserTokenClient, _KeptMcsClient)


def is_connector_request(context: TurnContext) -> bool:
    """A turn whose request was admitted on Copilot Studio's agent-to-agent connector path (`auth.incoming`): by its
    verified token, never by what the activity's body claims."""
    return admitted_path(context.identity) is Path.CONNECTOR


def is_service_principal_call(context: TurnContext) -> bool:
    """A connector request whose token is an app's, not a signed-in user's (no `scp`): a Copilot Studio connection
    set up with a service principal. It has no user to read Microsoft 365 for, nor anything to exchange."""
    return is_connector_request(context) and context.identity is not None and "scp" not in context.identity.claims


class _AdmittedRequest:
    """The request as the SDK's adapter reads it (`HttpRequestProtocol`), with the activity `auth.incoming` admitted:
    parsed and validated once, and on Copilot Studio's connector with the token's user as `from`."""

    def __init__(self, request: web.Request) -> None:
        self._request = request

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        """The admitted activity itself, validated once: the SDK's adapter passes what this returns through
        `Activity.model_validate`, which hands an `Activity` back as it is (pydantic does not validate an instance
        again), so the body is not validated a second time each turn."""
        return cast("dict[str, Any]", self._request[ADMITTED_ACTIVITY])

    def get_claims_identity(self) -> ClaimsIdentity | None:
        return self._request.get("claims_identity")

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


class AgentAdapter(TurnAdapter):
    """The SDK's aiohttp adapter (with one deadline per turn), run only on requests `auth.incoming.authenticated`
    admitted."""

    def __init__(self, *, channel_service_client_factory: ConnectorAwareClientFactory, **kwargs: Any) -> None:
        super().__init__(channel_service_client_factory=channel_service_client_factory, **kwargs)
        self._clients = channel_service_client_factory

    async def process(self, request: web.Request, agent: Agent) -> web.Response:
        return _aiohttp_response(await self.process_request(_AdmittedRequest(request), agent))

    async def warm_up(self) -> None:
        await self._clients.warm_up()

    async def aclose(self) -> None:
        """Closes the channel clients kept for the process (on app cleanup)."""
        await self._clients.aclose()


def _aiohttp_response(response: HttpResponse) -> web.Response:
    """The SDK's answer as aiohttp's, as SDK 1.9's `CloudAdapter.process` turns it into one
    (`hosting/aiohttp/cloud_adapter.py`, the private `_to_aiohttp_response`): a body goes out as JSON, and without one
    the status, headers and content type the SDK gave (`tests/test_sdk_equivalents.py`)."""
    if response.body is not None:
        return web.json_response(response.body, status=response.status_code, headers=response.headers)
    return web.Response(status=response.status_code, headers=response.headers, content_type=response.content_type)


def build_adapter(connections: ConnectionManager, cloud: Cloud, turn_seconds: float) -> AgentAdapter:
    """The SDK's adapter with this module's channel clients, every turn bounded by `turn_seconds`."""
    factory = ConnectorAwareClientFactory(connections, cloud, cloud.token_service_endpoint)
    return AgentAdapter(connection_manager=connections, channel_service_client_factory=factory,
                        turn_seconds=turn_seconds)
