"""The Azure Bot Service token service (token.botframework.com) of the local cloud, for one bot registration.

It keeps users' tokens for the bot's OAuth connection, hands out the sign-in link, runs the real authorization-code +
PKCE flow against the local Entra ID, shows the magic code, and exchanges Teams SSO tokens by a real OBO call.
Routes and answers follow what the Agents SDK's `UserTokenClient` sends and expects; paths match case-insensitively,
as the real service's do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from .cloud import OAUTH_CONNECTION_NAME, Cloud
from .faults import Fault
from .tenant import AGENT_GRAPH_SCOPES, BOTFRAMEWORK_RESOURCE, User, stable_id
from .tokens import TokenRejected

log = logging.getLogger("localcloud.tokenservice")

REDIRECT_PATH = "/.auth/web/redirect"
SIGN_IN_LIFETIME = 15 * 60
"""How long a sign-in link and an authorization request stay usable."""
MAGIC_CODE_LIFETIME = 5 * 60
REFRESH_MARGIN = 5 * 60
"""A stored token this close to expiry is refreshed before it is handed out."""
CONSENT_REQUIRED = "Consent Required"
"""The message Bot Service answers an exchange with when the user must consent; the SDK then answers Teams 412."""

ErrorBody = dict[str, dict[str, str]]


class ServiceError(Exception):
    """An error answer in Bot Service's shape: `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        body: ErrorBody = {"error": {"code": self.code, "message": self.message}}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return web.json_response(body, status=self.status, headers=headers)


class PageError(Exception):
    """A problem on the browser side of the sign-in: shown as a readable page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class OAuthConnection:
    """The bot registration's OAuth connection setting (an AAD v2 provider using the agent's own app)."""

    name: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    token_exchange_url: str
    provider_id: str = stable_id("botservice:provider:aadv2")
    provider_display_name: str = "Azure Active Directory v2"

    @property
    def sign_in_scopes(self) -> str:
        return " ".join(("openid", "profile", "offline_access", *self.scopes))


Key = tuple[str, str, str]
"""(userId, connectionName, channelId): how Bot Service files a user's token."""


@dataclass
class StoredToken:
    token: str
    expires_at: float
    refresh_token: str | None = None

    def response(self, key: Key) -> dict[str, str]:
        expiration = datetime.fromtimestamp(self.expires_at, UTC).isoformat()
        return {"channelId": key[2], "connectionName": key[1], "token": self.token, "expiration": expiration}


@dataclass
class SignIn:
    """A sign-in started for one channel user; its id is the opaque `signin` of the link."""

    key: Key
    expires_at: float = field(default_factory=lambda: time.time() + SIGN_IN_LIFETIME)


@dataclass
class AuthorizationRequest:
    """One trip to the authorize page, found again by its `state` when Entra redirects back."""

    sign_in: SignIn
    code_verifier: str
    expires_at: float = field(default_factory=lambda: time.time() + SIGN_IN_LIFETIME)


@dataclass
class PendingToken:
    """A token waiting for its magic code to be typed into the chat by the user who started the sign-in."""

    token: StoredToken
    expires_at: float = field(default_factory=lambda: time.time() + MAGIC_CODE_LIFETIME)


def _ci(path: str) -> str:
    """A route pattern matching `path` case-insensitively (ASP.NET routing, as the real service has)."""
    return "/{path:(?i:" + path.lstrip("/") + ")}"


def _purge(entries: dict[Any, Any]) -> None:
    now = time.time()
    for name in [name for name, entry in entries.items() if entry.expires_at <= now]:
        del entries[name]


class TokenService:
    def __init__(self, cloud: Cloud) -> None:
        agent = cloud.directory.agent
        assert agent.secret is not None
        self.cloud = cloud
        self.connection = OAuthConnection(
            name=OAUTH_CONNECTION_NAME,
            client_id=agent.client_id,
            client_secret=agent.secret,
            scopes=AGENT_GRAPH_SCOPES,
            token_exchange_url=f"api://botid-{agent.client_id}",
        )
        self.redirect_uri = f"{cloud.endpoints.token_service}{REDIRECT_PATH}"
        self.tokens: dict[Key, StoredToken] = {}
        self.sign_ins: dict[str, SignIn] = {}
        self.authorizations: dict[str, AuthorizationRequest] = {}
        self.pending: dict[tuple[Key, str], PendingToken] = {}
        self.consent_required_users: set[str] = set()
        self.consent_required_for_everyone = False

    # --- helpers -------------------------------------------------------------------------------------------------

    def authenticate(self, request: web.Request) -> None:
        """Only the bot itself may call the API: an Entra token for Bot Service issued to the bot's app."""
        try:
            claims = self.cloud.issuer.verify_bearer(request.headers.get("Authorization"), [BOTFRAMEWORK_RESOURCE])
        except TokenRejected as error:
            raise ServiceError(401, "Unauthorized", error.reason) from error
        if claims.get("azp", claims.get("appid")) != self.connection.client_id:
            raise ServiceError(401, "Unauthorized", "The token was not issued to this bot.")

    @staticmethod
    def required(request: web.Request, name: str) -> str:
        value = request.query.get(name, "").strip()
        if not value:
            raise ServiceError(400, "BadArgument", f"The '{name}' parameter is required.")
        return value

    def check_connection(self, name: str) -> str:
        if name.lower() != self.connection.name.lower():
            raise ServiceError(400, "BadArgument", f"The OAuth connection '{name}' does not exist on this bot.")
        return self.connection.name

    def key(self, request: web.Request) -> Key:
        user_id = self.required(request, "userId")
        connection = self.check_connection(self.required(request, "connectionName"))
        return user_id, connection, self.required(request, "channelId")

    async def token_endpoint(self, form: dict[str, str]) -> dict[str, Any]:
        """POST to the local Entra token endpoint as the connection's client; raise `ServiceError` on failure."""
        url = f"{self.cloud.endpoints.login}/{self.cloud.tenant_id}/oauth2/v2.0/token"
        form = {"client_id": self.connection.client_id, "client_secret": self.connection.client_secret, **form}
        try:
            async with self.cloud.http.post(url, data=form) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, json.JSONDecodeError, TimeoutError) as error:
            raise ServiceError(502, "ServiceError", "The identity provider could not be reached.") from error
        if not isinstance(body, dict):
            raise ServiceError(502, "ServiceError", "The identity provider answered with something unexpected.")
        if response.status != 200 or "access_token" not in body:
            error_code = str(body.get("error", "unknown_error"))
            if body.get("suberror") == "consent_required" or error_code == "interaction_required" or 65001 in (
                body.get("error_codes") or []
            ):
                raise ServiceError(400, "ServiceError", CONSENT_REQUIRED)
            raise ServiceError(400, "ServiceError", f"The identity provider refused the request ({error_code}).")
        return body

    @staticmethod
    def stored(body: dict[str, Any], refresh_token: str | None = None) -> StoredToken:
        return StoredToken(
            token=body["access_token"],
            expires_at=time.time() + int(body.get("expires_in", 3600)),
            refresh_token=body.get("refresh_token", refresh_token),
        )

    async def valid_token(self, key: Key) -> StoredToken | None:
        """The user's token, refreshed with its refresh token when it is about to expire; None when there is none."""
        stored = self.tokens.get(key)
        if stored is None or stored.expires_at - time.time() > REFRESH_MARGIN:
            return stored
        if stored.refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": stored.refresh_token,
                    "scope": self.connection.sign_in_scopes}
            try:
                stored = self.tokens[key] = self.stored(await self.token_endpoint(form), stored.refresh_token)
                return stored
            except ServiceError:
                log.info("refreshing a token for connection %s failed", key[1])
        if stored.expires_at > time.time():
            return stored
        self.tokens.pop(key, None)
        return None

    def sign_in_resource(self, key: Key) -> dict[str, Any]:
        _purge(self.sign_ins)
        sign_in_id = secrets.token_urlsafe(24)
        self.sign_ins[sign_in_id] = SignIn(key)
        link = f"{self.cloud.endpoints.token_service}/api/oauth/signin?{urlencode({'signin': sign_in_id})}"
        return {
            "signInLink": link,
            "tokenExchangeResource": {
                "id": str(uuid.uuid4()),
                "uri": self.connection.token_exchange_url,
                "providerId": self.connection.provider_id,
            },
            "tokenPostResource": {},
        }

    def key_from_state(self, request: web.Request) -> Key:
        """Who a sign-in is for, read from the base64 JSON `TokenExchangeState` the SDK sends."""
        try:
            state = json.loads(base64.b64decode(self.required(request, "state"), validate=True))
            conversation = state["conversation"]
            user_id, channel_id = conversation["user"]["id"], conversation["channelId"]
            connection = state["connectionName"]
        except (binascii.Error, ValueError, KeyError, TypeError) as error:
            raise ServiceError(400, "BadArgument", "The state is not a valid TokenExchangeState.") from error
        if not all(isinstance(value, str) and value for value in (user_id, channel_id, connection)):
            raise ServiceError(400, "BadArgument", "The state names no user, channel or connection.")
        return user_id, self.check_connection(connection), channel_id

    def consent_required(self, user_oid: str) -> bool:
        """The local switch; a real lack of consent shows up as Entra's AADSTS65001 on the OBO call."""
        return self.consent_required_for_everyone or user_oid in self.consent_required_users

    # --- the token API (called by the bot) -------------------------------------------------------------------------

    async def get_token_or_sign_in_resource(self, request: web.Request) -> web.Response:
        key = self.key(request)
        stored = await self.valid_token(key)
        if stored is not None:
            return web.json_response({"tokenResponse": stored.response(key)})
        return web.json_response({"signInResource": self.sign_in_resource(key)})

    async def get_token(self, request: web.Request) -> web.Response:
        key = self.key(request)
        code = request.query.get("code", "").strip()
        if code:
            _purge(self.pending)
            pending = self.pending.pop((key, code), None)
            if pending is not None:
                self.tokens[key] = pending.token
        stored = await self.valid_token(key)
        if stored is None:
            raise ServiceError(404, "NotFound", "No token is stored for this user and connection.")
        return web.json_response(stored.response(key))

    async def exchange(self, request: web.Request) -> web.Response:
        key = self.key(request)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ServiceError(400, "BadArgument", "The body must be a TokenExchangeRequest.") from error
        sso_token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(sso_token, str) or not sso_token:
            raise ServiceError(400, "BadArgument", "The token exchange request needs a 'token'.")
        agent = self.cloud.directory.agent
        try:
            claims = self.cloud.issuer.verify_entra(sso_token, [agent.client_id, *agent.identifier_uris])
        except TokenRejected as error:
            raise ServiceError(400, "BadArgument", f"The token cannot be exchanged: {error.reason}") from error
        if "access_as_user" not in str(claims.get("scp", "")).split() or "oid" not in claims:
            raise ServiceError(400, "BadArgument", "The token cannot be exchanged: it lacks the access_as_user scope.")
        if claims.get("azp") not in agent.pre_authorized_clients:
            raise ServiceError(400, "BadArgument", "The token cannot be exchanged: its client is not pre-authorized.")
        if self.consent_required(claims["oid"]):
            raise ServiceError(400, "ServiceError", CONSENT_REQUIRED)
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "requested_token_use": "on_behalf_of",
                "assertion": sso_token, "scope": self.connection.sign_in_scopes}
        stored = self.tokens[key] = self.stored(await self.token_endpoint(form))
        return web.json_response(stored.response(key))

    async def sign_out(self, request: web.Request) -> web.Response:
        user_id = self.required(request, "userId")
        channel_id = request.query.get("channelId", "").strip()
        connection = request.query.get("connectionName", "").strip()
        if connection:
            connection = self.check_connection(connection)
        for key in list(self.tokens):
            if key[0] == user_id and (not connection or key[1] == connection) and key[2] == (channel_id or key[2]):
                del self.tokens[key]
        return web.json_response({})

    async def get_token_status(self, request: web.Request) -> web.Response:
        user_id = self.required(request, "userId")
        channel_id = self.required(request, "channelId")
        include = {name.strip().lower() for name in request.query.get("include", "").split(",") if name.strip()}
        statuses = [
            {
                "channelId": channel_id,
                "connectionName": self.connection.name,
                "hasToken": await self.valid_token((user_id, self.connection.name, channel_id)) is not None,
                "serviceProviderDisplayName": self.connection.provider_display_name,
            }
        ]
        return web.json_response([s for s in statuses if not include or s["connectionName"].lower() in include])

    async def get_aad_tokens(self, request: web.Request) -> web.Response:
        """Tokens for other resources, redeemed with the stored sign-in's refresh token."""
        key = self.key(request)
        try:
            body = await request.json()
            resources = body["resourceUrls"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
            raise ServiceError(400, "BadArgument", 'The body must be {"resourceUrls": [...]}.') from error
        if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
            raise ServiceError(400, "BadArgument", "'resourceUrls' must be a list of URLs.")
        stored = await self.valid_token(key)
        if stored is None or not stored.refresh_token:
            raise ServiceError(404, "NotFound", "No token is stored for this user and connection.")
        answer = {}
        for resource in resources:
            form = {"grant_type": "refresh_token", "refresh_token": stored.refresh_token,
                    "scope": f"{resource.rstrip('/')}/.default"}
            answer[resource] = self.stored(await self.token_endpoint(form)).response(key)
        return web.json_response(answer)

    async def get_sign_in_resource(self, request: web.Request) -> web.Response:
        return web.json_response(self.sign_in_resource(self.key_from_state(request)))

    async def get_sign_in_url(self, request: web.Request) -> web.Response:
        return web.Response(text=self.sign_in_resource(self.key_from_state(request))["signInLink"])

    # --- the browser side of the sign-in --------------------------------------------------------------------------

    async def start_sign_in(self, request: web.Request) -> web.Response:
        """The sign-in link: send the browser to Entra's authorize page with a fresh state and PKCE challenge."""
        _purge(self.sign_ins)
        sign_in = self.sign_ins.get(request.query.get("signin", ""))
        if sign_in is None:
            raise PageError("This sign-in link is not valid or has expired. Ask the agent for a new one.")
        _purge(self.authorizations)
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        self.authorizations[state] = AuthorizationRequest(sign_in, verifier)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({
            "client_id": self.connection.client_id,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "scope": self.connection.sign_in_scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "response_mode": "query",
        })
        raise web.HTTPFound(f"{self.cloud.endpoints.login_ui}/{self.cloud.tenant_id}/oauth2/v2.0/authorize?{query}")

    async def redirect(self, request: web.Request) -> web.Response:
        """Entra's redirect: redeem the code, keep the token under a magic code, and show the code."""
        _purge(self.authorizations)
        authorization = self.authorizations.pop(request.query.get("state", ""), None)
        if authorization is None:
            raise PageError("This sign-in has expired or was already used. Ask the agent for a new sign-in link.")
        error = request.query.get("error")
        if error == "access_denied":
            raise PageError("Sign-in was cancelled. You can close this window.")
        if error:
            raise PageError(f"Sign-in failed ({error}). Ask the agent for a new sign-in link.")
        code = request.query.get("code", "")
        if not code:
            raise PageError("The sign-in answer carried no authorization code.")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": authorization.code_verifier, "scope": self.connection.sign_in_scopes}
        try:
            body = await self.token_endpoint(form)
        except ServiceError as failure:
            raise PageError(f"Sign-in failed: {failure.message}") from failure
        _purge(self.pending)
        magic_code = f"{secrets.randbelow(1_000_000):06d}"
        self.pending[(authorization.sign_in.key, magic_code)] = PendingToken(self.stored(body))
        return _page(
            "Signed in",
            "<p>Enter this code in the chat to finish signing in: "
            f'<strong data-testid="magic-code">{magic_code}</strong></p>',
        )

    # --- local cloud control --------------------------------------------------------------------------------------

    def require_consent(self, user: User | None, enabled: bool) -> dict[str, Any]:
        """Make token exchanges answer "Consent Required" for one user or, with None, everyone; the switch's state."""
        if user is None:
            self.consent_required_for_everyone = enabled
            if not enabled:
                self.consent_required_users.clear()
        else:
            (self.consent_required_users.add if enabled else self.consent_required_users.discard)(user.id)
        names = sorted(self.cloud.directory.users[oid].username for oid in self.consent_required_users)
        return {"everyone": self.consent_required_for_everyone, "users": names}


def _page(title: str, body_html: str, status: int = 200) -> web.Response:
    text = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<style>body{font-family:"Segoe UI",system-ui,sans-serif;margin:4rem auto;max-width:32rem;color:#242424}'
        "strong{font-size:2rem;letter-spacing:.2rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body_html}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def fault_reply(_: web.Request, fault: Fault) -> web.Response:
    assert fault.status is not None
    code = {401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}.get(fault.status, "ServiceError")
    response = ServiceError(fault.status, code, fault.message).response()
    response.headers.update(fault.headers)
    return response


def create_app(cloud: Cloud) -> web.Application:
    service = cloud.token_service

    @web.middleware
    async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
        """Authenticate API calls, and turn every failure into Bot Service's error shape or a readable page."""
        try:
            if request.path.lower().startswith("/api/") and not request.path.lower().startswith("/api/oauth/"):
                service.authenticate(request)
            return await handler(request)
        except ServiceError as error:
            return error.response()
        except PageError as error:
            return _page("Sign-in problem", f"<p>{html.escape(error.message)}</p>", error.status)

    app = web.Application(middlewares=[errors])
    api = [
        ("GET", "api/usertoken/GetTokenOrSignInResource", service.get_token_or_sign_in_resource),
        ("GET", "api/usertoken/GetToken", service.get_token),
        ("POST", "api/usertoken/exchange", service.exchange),
        ("DELETE", "api/usertoken/SignOut", service.sign_out),
        ("GET", "api/usertoken/GetTokenStatus", service.get_token_status),
        ("POST", "api/usertoken/GetAadTokens", service.get_aad_tokens),
        ("GET", "api/botsignin/GetSignInResource", service.get_sign_in_resource),
        ("GET", "api/(?:bot|agent)signin/GetSignInUrl", service.get_sign_in_url),
    ]
    for method, path, handler in api:
        app.router.add_route(method, _ci(path), handler)
    app.router.add_get(_ci("api/oauth/signin"), service.start_sign_in)
    app.router.add_get(REDIRECT_PATH, service.redirect)
    return app

