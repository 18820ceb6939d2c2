"""The wiring of Microsoft's Python samples for the Agents SDK, for the turn benchmark's two baseline agents.

As in `samples/python/auto-signin` (`src/agent.py`, `src/start_server.py`): `MemoryStorage`, the connection manager,
`CloudAdapter`, `Authorization` and `AgentApplication` built from `load_configuration_from_env`, the SDK's JWT
middleware in front of `start_agent_process`. Only where the SDK hard-codes the public cloud is it pointed at the local
one, as any agent there must be: the URL of Bot Service's signing keys (`_LocalKeys`), MSAL's trust in the local CA
(the agent's `build_connections`) and the token service's URL. A `/readyz` that answers once the server listens lets
the benchmark time a cold start the same way for every agent.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from dotenv import load_dotenv
from jwt import PyJWKClient
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    Authorization,
    MemoryStorage,
    RestChannelServiceClientFactory,
    TurnState,
)
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    JwtTokenValidator,
    _JwkClientCacheEntry,
    _JwkClientManager,
)

from auth.cloud import Cloud, cloud_from_settings
from auth.connections import build_connections

Startup = Callable[[web.Application], Awaitable[None]]


class _LocalKeys(_JwkClientManager):
    """The SDK's key cache, fetching Bot Service's keys from the local cloud (trusting its CA) instead of the URL
    `JwtTokenValidator._build_jwks_uri` hard-codes."""

    def __init__(self, cloud: Cloud) -> None:
        super().__init__()
        self._cloud = cloud

    def _get_jwk_client(self, jwks_uri: str) -> _JwkClientCacheEntry:
        url = self._cloud.botframework_jwks_url if jwks_uri == AuthenticationConstants.PUBLIC_ABS_JWKS_URL else jwks_uri
        if url not in self._cache:
            client = PyJWKClient(url, ssl_context=self._cloud.ssl_context())
            self._cache[url] = _JwkClientCacheEntry(client, threading.Lock())
        return self._cache[url]


@dataclass(frozen=True)
class SampleAgent:
    app: AgentApplication[TurnState]
    adapter: CloudAdapter
    auth_configuration: AgentAuthConfiguration
    """What the SDK's JWT middleware checks the audience against."""
    cloud: Cloud


def build_agent(settings: Mapping[str, str]) -> SampleAgent:
    """The sample's application objects, on the cloud the settings name."""
    cloud = cloud_from_settings(settings)
    config = load_configuration_from_env(settings)
    connections = build_connections(config, cloud)
    factory = RestChannelServiceClientFactory(connections, token_service_endpoint=cloud.token_service_endpoint)
    adapter = CloudAdapter(connection_manager=connections, channel_service_client_factory=factory)
    storage = MemoryStorage()
    authorization = Authorization(storage, connections, **config)
    app = AgentApplication[TurnState](storage=storage, adapter=adapter, authorization=authorization, **config)
    JwtTokenValidator._jwk_client_manager = _LocalKeys(cloud)  # a class attribute: process-wide, as keys are
    return SampleAgent(app, adapter, connections.get_default_connection_configuration(), cloud)


def serve(agent: SampleAgent, on_startup: Startup | None = None, on_cleanup: Startup | None = None) -> None:
    """`start_server.py` of the sample: `/api/messages` behind the SDK's JWT middleware, on 127.0.0.1:`PORT`."""

    async def messages(request: web.Request) -> web.StreamResponse:
        return await start_agent_process(request, agent.app, agent.adapter) or web.Response(status=202)

    async def authenticated(request: web.Request) -> web.StreamResponse:
        return await jwt_authorization_middleware(request, messages)

    async def readyz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app["agent_configuration"] = agent.auth_configuration
    app.router.add_post("/api/messages", authenticated)
    app.router.add_get("/readyz", readyz)
    if on_startup:
        app.on_startup.append(on_startup)
    if on_cleanup:
        app.on_cleanup.append(on_cleanup)
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "3978")), print=None)


def load_settings(description: str) -> Mapping[str, str]:
    """`--env-file PATH` loaded into the environment, as `python bot.py` does."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--env-file", type=Path, default=Path(".env"))
    load_dotenv(parser.parse_args().env_file)
    return os.environ
