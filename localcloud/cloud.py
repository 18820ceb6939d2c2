"""Runs every service of the local cloud in one process, each on its own free loopback port.

Each service lives in its own module with a `create_app(cloud) -> web.Application`; they share one `Cloud`:
the directory, the token issuer, the fault registry and each other's URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .faults import FaultRegistry, FaultReply
from .pki import CertificateAuthority, SigningKey
from .tenant import Directory
from .tokens import TokenIssuer
from .traffic import Traffic

if TYPE_CHECKING:
    from .entra import Entra
    from .graph import GraphRequestLog
    from .tokenservice import TokenService

log = logging.getLogger("localcloud")

DEFAULT_AGENT_ENDPOINT = "http://127.0.0.1:3978/api/messages"
OAUTH_CONNECTION_NAME = "graph"
"""The Azure Bot OAuth connection the local Bot Service knows, as a bot registration would."""
IDENTITY_TOKEN_PATH = "/msi/token"
"""Where `localcloud.identity` hands out the managed identity's tokens."""


@dataclass
class Endpoints:
    """Where each service listens; the https ones present a certificate from the cloud's CA."""

    login: str
    """Entra ID (https): discovery, JWKS, token endpoint."""
    login_ui: str
    """Entra ID sign-in pages (https, as login.microsoftonline.com serves them; a browser trusts the cloud's CA or is
    told to)."""
    botframework: str
    """Bot Framework's OpenID metadata and channel-token keys (https), as login.botframework.com."""
    token_service: str
    """Bot Service token service (http), as token.botframework.com."""
    graph: str
    """Microsoft Graph (https); versions live under it (`/v1.0`)."""
    channels: str
    """The channels (http): the serviceUrl the agent replies to, and the control API under `/_localcloud`."""
    identity: str = ""
    """The host's managed-identity endpoint (http, as App Service's `IDENTITY_ENDPOINT` is), `localcloud.identity`."""


@dataclass
class Cloud:
    directory: Directory
    issuer: TokenIssuer
    endpoints: Endpoints
    ca_file: Path
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    traffic: Traffic = field(default_factory=Traffic)
    agent_endpoint: str = DEFAULT_AGENT_ENDPOINT
    client_ssl: ssl.SSLContext | None = None
    identity_header: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """`IDENTITY_HEADER`: the value the identity endpoint requires in `X-IDENTITY-HEADER`, new on every run."""
    _http: aiohttp.ClientSession | None = None
    entra: Entra = field(init=False, repr=False)
    """Entra ID's state (codes, refresh tokens, open sign-in pages), shared by its token app and its sign-in app."""
    token_service: TokenService = field(init=False, repr=False)
    """The token service's state, which the control API on the channels URL also switches."""
    graph_requests: GraphRequestLog = field(init=False, repr=False)
    """What the local Graph answered, read through the control API to count round trips."""

    @property
    def tenant_id(self) -> str:
        return self.directory.tenant_id

    @property
    def http(self) -> aiohttp.ClientSession:
        """One client session for the cloud's own outgoing calls (to the agent, and between its services)."""
        if self._http is None:
            connector = aiohttp.TCPConnector(ssl=self.client_ssl or True)
            self._http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60))
        return self._http

    def agent_settings(self) -> dict[str, str]:
        """The agent's settings for `AGENT_CLOUD=local`, written to the env file as dotenv lines."""
        agent = self.directory.agent
        assert agent.secret is not None
        service = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
        handlers = "AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__"
        return {
            "AGENT_CLOUD": "local",
            "LOGIN_ENDPOINT": self.endpoints.login,
            "GRAPH_ENDPOINT": self.endpoints.graph,
            "TOKEN_SERVICE_ENDPOINT": self.endpoints.token_service,
            "BOTFRAMEWORK_JWKS_URL": f"{self.endpoints.botframework}/v1/.well-known/keys",
            "ENTRA_JWKS_URL": f"{self.endpoints.login}/{self.tenant_id}/discovery/v2.0/keys",
            "EXTRA_CA_FILE": str(self.ca_file),
            f"{service}AUTHTYPE": "ClientSecret",
            f"{service}CLIENTID": agent.client_id,
            f"{service}CLIENTSECRET": agent.secret,
            f"{service}TENANTID": self.tenant_id,
            # The agent's two auth handlers, as its Azure Bot registration would be set up: Teams users sign in through
            # the bot's OAuth connection; Copilot Studio's connector passes the user's token, exchanged on-behalf-of.
            f"{handlers}GRAPH__TYPE": "UserAuthorization",
            f"{handlers}GRAPH__SETTINGS__AZUREBOTOAUTHCONNECTIONNAME": OAUTH_CONNECTION_NAME,
            f"{handlers}CONNECTOR__TYPE": "ConnectorUserAuthorization",
            f"{handlers}CONNECTOR__SETTINGS__OBOCONNECTIONNAME": "SERVICE_CONNECTION",
            f"{handlers}CONNECTOR__SETTINGS__SCOPES": "https://graph.microsoft.com/.default",
            # The host's managed identity, as App Service and Container Apps set it (localcloud.identity): read by
            # azure-identity (Blob storage through Entra ID) and by MSAL (AUTHTYPE=FederatedCredentials).
            "IDENTITY_ENDPOINT": f"{self.endpoints.identity}{IDENTITY_TOKEN_PATH}",
            "IDENTITY_HEADER": self.identity_header,
            "LOCALCLOUD_MANAGED_IDENTITY_CLIENT_ID": self.directory.managed_identity.client_id,
            # Where the local Copilot Studio connector takes replies sent with normal delivery.
            "COPILOT_STUDIO_REPLY_HOSTS": urlsplit(self.endpoints.channels).netloc,
            "LOCALCLOUD_URL": self.endpoints.channels,
            "LOCALCLOUD_OAUTH_CONNECTION": OAUTH_CONNECTION_NAME,
        }


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Service(NamedTuple):
    create_app: Callable[[Cloud], web.Application]
    faults: str
    """The name faults use for it (`localcloud.faults.SERVICES`)."""
    fault_reply: FaultReply
    """How it answers an injected error: in its own error shape."""


def _services() -> dict[str, Service]:
    """Each service by its `Endpoints` name."""
    from . import botframework, channels, entra, graph, identity, tokenservice
    from .faults import plain_reply

    return {
        "login": Service(entra.create_app, "login", entra.fault_reply),
        "login_ui": Service(entra.create_ui_app, "login", entra.ui_fault_reply),
        "botframework": Service(botframework.create_app, "botframework", plain_reply),
        "token_service": Service(tokenservice.create_app, "tokenservice", tokenservice.fault_reply),
        "graph": Service(graph.create_app, "graph", graph.fault_reply),
        "channels": Service(channels.create_app, "channels", channels.fault_reply),
        "identity": Service(identity.create_app, "login", plain_reply),
    }


_HTTPS = {"login", "login_ui", "botframework", "graph"}


@contextlib.asynccontextmanager
async def run_cloud(
    state_dir: Path, agent_endpoint: str = DEFAULT_AGENT_ENDPOINT, agent_secret: str | None = None,
    generated_users: int = 0,
) -> AsyncIterator[Cloud]:
    """Start every service on free loopback ports; stop them all on exit. `generated_users` adds that many users
    for load tests (`tenant.generated_users`)."""
    from .entra import Entra
    from .graph import GraphRequestLog
    from .tokenservice import REDIRECT_PATH, TokenService

    ca = CertificateAuthority()
    server_ssl = ca.server_ssl_context(state_dir)
    ca_file = state_dir / "ca.pem"
    client_ssl = ssl.create_default_context(cafile=str(ca_file))
    services = _services()
    sockets = {name: _loopback_socket() for name in services}
    urls = {
        name: f"{'https' if name in _HTTPS else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
        for name, sock in sockets.items()
    }
    directory = Directory.create(agent_secret=agent_secret, generated=generated_users)
    # The bot registration's OAuth connection redirects back to the token service.
    directory.agent.redirect_uris.append(f"{urls['token_service']}{REDIRECT_PATH}")
    cloud = Cloud(
        directory=directory,
        issuer=TokenIssuer(directory.tenant_id, SigningKey.generate(), SigningKey.generate()),
        endpoints=Endpoints(**urls),
        ca_file=ca_file,
        agent_endpoint=agent_endpoint,
        client_ssl=client_ssl,
    )
    cloud.entra = Entra(cloud)
    cloud.token_service = TokenService(cloud)
    cloud.graph_requests = GraphRequestLog(cloud)
    runners: list[web.AppRunner] = []
    try:
        for name, service in services.items():
            app = service.create_app(cloud)
            app.middlewares.insert(0, cloud.faults.middleware(service.faults, service.fault_reply))
            app.middlewares.insert(0, cloud.traffic.middleware(service.faults))
            # Cancel a handler when its client goes away, so an injected latency never outlives its request.
            runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
            await runner.setup()
            await web.SockSite(runner, sockets[name], ssl_context=server_ssl if name in _HTTPS else None).start()
            runners.append(runner)
        yield cloud
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        if cloud._http is not None:
            await cloud._http.close()
        for sock in sockets.values():
            sock.close()


def write_env_file(path: Path, settings: dict[str, str]) -> None:
    """Write dotenv lines atomically, so a reader that sees the file sees all of it (it is the readiness signal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key}={value}\n" for key, value in settings.items())
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, prefix=".env-") as handle:
        handle.write(body)
    os.chmod(handle.name, 0o600)
    os.replace(handle.name, path)


async def serve(env_file: Path, state_dir: Path, agent_endpoint: str, generated_users: int = 0) -> None:
    """Run until SIGTERM or SIGINT, with the agent's settings written to `env_file`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with run_cloud(state_dir, agent_endpoint, generated_users=generated_users) as cloud:
            write_env_file(env_file, cloud.agent_settings())
            log.info("local cloud ready: %s", ", ".join(f"{k}={v}" for k, v in vars(cloud.endpoints).items()))
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        # However it ends: the file holds the client secret, and its presence tells readers the cloud is up.
        await asyncio.to_thread(env_file.unlink, missing_ok=True)


def describe(cloud: Cloud) -> dict[str, Any]:
    """The endpoints, ids and the CA file a client trusts the https endpoints by (the sign-in page among them)."""
    return {"endpoints": vars(cloud.endpoints), "tenantId": cloud.tenant_id,
            "agentAppId": cloud.directory.agent.client_id, "caFile": str(cloud.ca_file)}
