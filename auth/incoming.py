"""Incoming auth: the SDK's JWT validation of `/api/messages`, with the cloud's key URLs.

The SDK validates with RS256, audience and tenant checks of its own; it only hard-codes where the keys come from
(`JwtTokenValidator._build_jwks_uri`). `use_cloud_keys` redirects exactly that, and nothing else.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web
from jwt import PyJWKClient
from microsoft_agents.hosting.aiohttp import jwt_authorization_middleware
from microsoft_agents.hosting.core.authorization import AuthenticationConstants, ClaimsIdentity
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    JwtTokenValidator,
    _JwkClientCacheEntry,
    _JwkClientManager,
)

from .cloud import PUBLIC, Cloud

LOOPBACK_AUTHENTICATION = "LocalCloudLoopback"
"""`ClaimsIdentity.authentication_type` of an unauthenticated loopback request to an agent on a local cloud."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _CloudJwkClientManager(_JwkClientManager):
    """The SDK's JWKS client cache, fetching from the cloud's key URLs and trusting its CA."""

    def __init__(self, cloud: Cloud) -> None:
        super().__init__()
        self._ssl_context = cloud.ssl_context()
        self._urls = {
            AuthenticationConstants.PUBLIC_ABS_JWKS_URL: cloud.botframework_jwks_url,
            AuthenticationConstants.GOV_ABS_JWKS_URL: cloud.botframework_jwks_url,
        }
        self._entra_public_prefix = PUBLIC.entra_jwks_url.split("{tenant}")[0]
        self._entra_jwks_url = cloud.entra_jwks_url

    def _cloud_url(self, jwks_uri: str) -> str:
        if jwks_uri in self._urls:
            return self._urls[jwks_uri]
        if jwks_uri.startswith(self._entra_public_prefix):
            tenant = jwks_uri[len(self._entra_public_prefix) :].split("/", 1)[0]
            return self._entra_jwks_url.replace("{tenant}", tenant)
        return jwks_uri

    def _get_jwk_client(self, jwks_uri: str) -> _JwkClientCacheEntry:
        url = self._cloud_url(jwks_uri)
        if url not in self._cache:
            self._cache[url] = _JwkClientCacheEntry(PyJWKClient(url, ssl_context=self._ssl_context), threading.Lock())
        return self._cache[url]


def use_cloud_keys(cloud: Cloud) -> None:
    """Make the SDK's JWT validation fetch keys from `cloud`; a no-op for the public cloud without overrides.

    The key cache is a class attribute of the SDK's validator, so this applies process-wide, as the keys do.
    """
    if cloud == PUBLIC:
        JwtTokenValidator._jwk_client_manager = _JwkClientManager()
    else:
        JwtTokenValidator._jwk_client_manager = _CloudJwkClientManager(cloud)


def is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def authenticated(handler: Handler, cloud: Cloud, app_id: str) -> Handler:
    """`handler` behind the SDK's JWT middleware, plus, only on a local cloud, an identity for unauthenticated loopback
    requests.

    The Agents Playground sends no Authorization header. The SDK's own `ANONYMOUS_ALLOWED` identity has no `aud`, which
    breaks the Bot Service OAuth flow; this identity carries the agent's app id as `aud`, as a channel token would.
    """

    async def authenticated_handler(request: web.Request) -> web.StreamResponse:
        if cloud.is_local and "Authorization" not in request.headers and is_loopback(request.remote):
            request["claims_identity"] = ClaimsIdentity(
                {AuthenticationConstants.AUDIENCE_CLAIM: app_id}, authentication_type=LOOPBACK_AUTHENTICATION
            )
            return await handler(request)
        return await jwt_authorization_middleware(request, handler)

    return authenticated_handler
