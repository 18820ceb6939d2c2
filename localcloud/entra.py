"""Entra ID for the local tenant: OpenID discovery, JWKS, the v2 token endpoint and the sign-in page.

The real MSAL talks to it unchanged (with `instance_discovery=False`): the same paths, grants, token claims and
error shapes (`AADSTS…` codes) as login.microsoftonline.com. Tokens carry the public cloud's issuer; only the
endpoints differ. The sign-in page is served over plain http (`create_ui_app`) so a browser opens it without
a certificate warning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from yarl import URL

from .cloud import Cloud
from .faults import Fault
from .tenant import BOTFRAMEWORK_RESOURCE, DOMAIN, GRAPH_APP_ID, GRAPH_RESOURCE, OIDC_SCOPES, App, User
from .tokens import ACCESS_TOKEN_LIFETIME, entra_issuer

CODE_LIFETIME = 600
"""Authorization codes and pending sign-in pages live ten minutes, as Entra's codes do."""
TENANT_ALIASES = ("common", "organizations", DOMAIN)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PERMISSION_TEXT = {
    "openid": "Sign users in",
    "profile": "View users' basic profile",
    "offline_access": "Maintain access to data you have given it access to",
    "User.Read": "Sign you in and read your profile",
    "User.ReadBasic.All": "Read the basic profiles of all users",
    "User.Read.All": "Read all users' full profiles",
    "Presence.Read": "Read your presence information",
    "MailboxSettings.Read": "Read your mailbox settings",
    "Calendars.Read": "Read your calendars",
    "Files.Read.All": "Read all files that you have access to",
    "access_as_user": "Access the app as you",
}


class EntraError(Exception):
    """An OAuth error as Entra reports it: `error`, an `AADSTS` code and its message."""

    def __init__(self, error: str, code: int, message: str, status: int = 400, suberror: str | None = None) -> None:
        super().__init__(message)
        self.error, self.code, self.message, self.status, self.suberror = error, code, message, status, suberror

    def response(self, request: web.Request) -> web.Response:
        trace_id, timestamp = str(uuid.uuid4()), datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        correlation_id = _correlation_id(request)
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        if self.suberror:
            body["suberror"] = self.suberror
        return web.json_response(body, status=self.status, headers=_no_store(trace_id))


def _correlation_id(request: web.Request) -> str:
    """The client's `client-request-id` when it is a GUID (MSAL sends one), else a new one."""
    try:
        return str(uuid.UUID(request.headers.get("client-request-id", "")))
    except ValueError:
        return str(uuid.uuid4())


def _no_store(trace_id: str) -> dict[str, str]:
    return {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache", "x-ms-request-id": trace_id}


def _missing(name: str) -> EntraError:
    return EntraError("invalid_request", 900144, f"The request body must contain the following parameter: '{name}'.")


@dataclass(frozen=True)
class Scopes:
    """A parsed `scope` parameter: one resource, the permissions asked on it, and the OpenID Connect scopes."""

    resource: str
    names: tuple[str, ...]
    oidc: frozenset[str]

    @classmethod
    def parse(cls, raw: str) -> Scopes:
        resources: set[str] = set()
        names: list[str] = []
        oidc: set[str] = set()
        for scope in raw.split():
            if scope.lower() in OIDC_SCOPES:
                oidc.add(scope.lower())
                continue
            resource, _, name = scope.rpartition("/") if "/" in scope else (GRAPH_RESOURCE, "", scope)
            resource = resource.rstrip("/")
            if not resource or not name:
                raise EntraError("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not "
                                 f"valid. The scope {scope} is not valid.")
            resources.add(GRAPH_RESOURCE if resource.lower() in (GRAPH_RESOURCE, GRAPH_APP_ID) else resource)
            names.append(name)
        if len(resources) > 1:
            raise EntraError(
                "invalid_request", 28000, "Provided value for the input parameter scope is not valid because it "
                "contains more than one resource. Scope " + raw + " is not valid."
            )
        if not resources:  # Only OpenID scopes: Entra signs the user in with a Graph User.Read token.
            return cls(GRAPH_RESOURCE, ("User.Read",), frozenset(oidc))
        return cls(resources.pop(), tuple(names), frozenset(oidc))

    @property
    def is_default(self) -> bool:
        return self.names == (".default",)


@dataclass(frozen=True)
class Access:
    """What a token is for: its audience, the user (None for app tokens), the client and the granted scopes."""

    audience: str
    client_id: str
    user: User | None = None
    scp: tuple[str, ...] = ()
    oidc: frozenset[str] = frozenset()
    nonce: str | None = None
    resource_prefix: str = ""
    """How `scope` in the response names the scopes (Graph's are bare, an app's carry its identifier)."""


@dataclass
class AuthCode:
    access: Access
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str
    expires: float


@dataclass
class AuthorizeRequest:
    """A sign-in page that was shown and not answered yet, keyed by a random id in its form."""

    client: App
    redirect_uri: str
    state: str | None
    scopes: Scopes
    code_challenge: str | None
    code_challenge_method: str
    nonce: str | None
    login_hint: str
    expires: float = field(default_factory=lambda: time.time() + CODE_LIFETIME)


@dataclass
class RefreshGrant:
    client_id: str
    user_id: str
    scope: str
    """The scopes it was issued for, used when a refresh request names none."""


class Entra:
    """The state behind both apps: codes, refresh tokens and pending sign-in pages, all in memory for one run."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.directory = cloud.directory
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.pending: dict[str, AuthorizeRequest] = {}

    # Tenants, apps and resources

    def tenant_id(self, tenant: str) -> str:
        if tenant.lower() in (self.directory.tenant_id, *TENANT_ALIASES):
            return self.directory.tenant_id
        raise EntraError(
            "invalid_tenant", 90002, f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud."
        )

    def app(self, client_id: str) -> App:
        app = self.directory.apps.get(client_id)
        if app is None:
            raise EntraError(
                "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found in the "
                f"directory '{DOMAIN}'. This can happen if the application has not been installed by the administrator "
                "of the tenant or consented to by any user in the tenant."
            )
        return app

    def resource(self, resource: str) -> tuple[str, App | None]:
        """The audience of a resource identifier, and the tenant's app behind it (None for Microsoft's APIs)."""
        key = resource.rstrip("/").lower()
        if key in (GRAPH_RESOURCE, GRAPH_APP_ID):
            return GRAPH_RESOURCE, None
        if key == BOTFRAMEWORK_RESOURCE:
            return BOTFRAMEWORK_RESOURCE, None
        for app in self.directory.apps.values():
            if key in (value.lower() for value in (app.client_id, *app.identifier_uris)):
                return app.client_id, app
        raise EntraError(
            "invalid_resource", 500011, f"The resource principal named {resource} was not found in the tenant named "
            f"{DOMAIN}. This can happen if the application has not been installed by the administrator of the tenant "
            "or consented to by any user in the tenant. You might have sent your authentication request to the wrong "
            "tenant."
        )

    def delegated(self, user: User, client: App, scopes: Scopes, nonce: str | None = None) -> Access:
        """A user token's access: Graph scopes need the user's or an admin's consent.

        An app's API exposes only `access_as_user`, which the local tenant's admin consented for every app of the
        tenant (Teams is pre-authorized, as in a real registration).
        """
        audience, app = self.resource(scopes.resource)
        if audience == GRAPH_RESOURCE:
            granted = {scope.lower(): scope for scope in self.directory.granted_graph_scopes(user.id, client.client_id)}
            wanted = list(granted) if scopes.is_default else [name.lower() for name in scopes.names]
            if not wanted or any(name not in granted for name in wanted):
                raise _consent_required(client)
            return Access(audience, client.client_id, user, tuple(sorted({granted[n] for n in wanted})),
                          scopes.oidc, nonce)
        if app is None:
            raise _invalid_scope(scopes)
        if any(name.lower() not in (".default", "access_as_user") for name in scopes.names):
            raise _invalid_scope(scopes)
        return Access(audience, client.client_id, user, ("access_as_user",), scopes.oidc, nonce,
                      resource_prefix=f"{scopes.resource}/")

    # Token endpoint

    def authenticate(self, request: web.Request, form: MultiDictProxy[str]) -> App:
        """Client authentication: a secret in the form or HTTP Basic, or a federated assertion, for confidential
        clients; nothing for public ones."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE:
            return self.federated_client(client_id, _required(form, "client_assertion"))
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError) as error:
                raise EntraError("invalid_client", 7000218, "The HTTP Basic credentials are malformed.", 401) from error
            client_id, secret = unquote(user), unquote(password)
        if not client_id:
            raise _missing("client_id")
        app = self.app(client_id)
        if app.secret is None:
            if secret:
                raise EntraError("invalid_client", 700025, "Client is public so neither 'client_assertion' nor "
                                 "'client_secret' should be presented.", 401)
            return app
        if not secret:
            raise EntraError("invalid_client", 7000218, "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.", 401)
        if not hmac.compare_digest(secret.encode(), app.secret.encode()):
            raise EntraError("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent "
                             "in the request is the client secret value, not the client secret ID, for a secret added "
                             f"to app '{app.client_id}'.", 401)
        return app

    def federated_client(self, client_id: str, assertion: str) -> App:
        """An app that presents another issuer's token as its credential: it must match one of the app's federated
        credentials by issuer, subject and audience (workload identity federation,
        https://learn.microsoft.com/entra/workload-id/workload-identity-federation). Only this cloud's own issuer is
        known here, so the managed identity's token is the only assertion that can match."""
        app = self.app(client_id)
        try:
            claims = jwt.decode(assertion, self.cloud.issuer.entra_key.public_key, algorithms=["RS256"],
                                options={"verify_aud": False, "require": ["exp", "iss", "sub", "aud"]})
        except jwt.ExpiredSignatureError as error:
            raise EntraError("invalid_client", 700024, "Client assertion is not within its valid time range.",
                             401) from error
        except jwt.PyJWTError as error:
            raise EntraError("invalid_client", 50027, "JWT token is invalid or malformed.", 401) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if not any((claims["iss"], claims["sub"]) == (trusted.issuer, trusted.subject) and trusted.audience in audiences
                   for trusted in app.federated_credentials):
            raise EntraError("invalid_client", 70021, "No matching federated identity record found for presented "
                             f"assertion. Assertion Issuer: '{claims['iss']}'. Assertion Subject: '{claims['sub']}'. "
                             f"Assertion Audience: '{','.join(audiences)}'.", 401)
        return app

    def grant(self, request: web.Request, form: MultiDictProxy[str]) -> Access:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _missing("grant_type")
        handlers = {
            "client_credentials": self.client_credentials,
            JWT_BEARER: self.on_behalf_of,
            "authorization_code": self.authorization_code,
            "password": self.password,
            "refresh_token": self.refresh_token,
        }
        handler = handlers.get(grant_type)
        if handler is None:
            raise EntraError("unsupported_grant_type", 70003,
                             f"The app requested an unsupported grant type '{grant_type}'.")
        return handler(self.authenticate(request, form), form)

    def client_credentials(self, client: App, form: MultiDictProxy[str]) -> Access:
        if client.secret is None:
            raise EntraError("invalid_client", 7000218, "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.", 401)
        scopes = Scopes.parse(_required(form, "scope"))
        if not scopes.is_default:
            raise EntraError(
                "invalid_scope", 1002012, f"The provided value for scope {form['scope']} is not valid. Client "
                "credential flows must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI)."
            )
        audience, _ = self.resource(scopes.resource)
        return Access(audience, client.client_id)

    def on_behalf_of(self, client: App, form: MultiDictProxy[str]) -> Access:
        if form.get("requested_token_use") != "on_behalf_of":
            raise _missing("requested_token_use")
        claims = self.verify_assertion(_required(form, "assertion"), client)
        user = self.directory.users.get(str(claims.get("oid", "")))
        if user is None or "scp" not in claims:
            raise EntraError("invalid_grant", 50013, "Assertion is not a user token: it has no user and no scopes.")
        return self.delegated(user, client, Scopes.parse(_required(form, "scope")))

    def verify_assertion(self, assertion: str, client: App) -> dict[str, Any]:
        """An OBO assertion must be our own, unexpired user token issued for the calling client."""
        try:
            claims = jwt.decode(
                assertion,
                self.cloud.issuer.entra_key.public_key,
                algorithms=["RS256"],
                issuer=self.cloud.issuer.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise EntraError("invalid_grant", 500133, "Assertion is not within its valid time range.") from error
        except jwt.PyJWTError as error:
            raise EntraError("invalid_grant", 50013, "Assertion failed signature validation.") from error
        if not client.is_audience(str(claims["aud"])):
            raise EntraError(
                "invalid_grant", 50013, f"Assertion audience does not match the Client app presenting the assertion. "
                f"The audience in the assertion was '{claims['aud']}' and the expected audience is "
                f"'{client.client_id}' or one of the Application Id URIs of this application with App ID "
                f"'{client.client_id}'({client.display_name})."
            )
        return claims

    def authorization_code(self, client: App, form: MultiDictProxy[str]) -> Access:
        code = self.codes.pop(_required(form, "code"), None)
        if code is None or code.expires < time.time():
            raise EntraError("invalid_grant", 70008, "The provided authorization code or refresh token has expired "
                             "due to inactivity. Send a new interactive authorization request for this user and "
                             "resource.")
        if code.access.client_id != client.client_id:
            raise EntraError("invalid_grant", 70000, "Provided grant is invalid or malformed: the code was issued "
                             "to another client.")
        redirect_uri = form.get("redirect_uri", "")
        if redirect_uri != code.redirect_uri:
            raise EntraError("invalid_grant", 500112, f"The reply address '{redirect_uri}' does not match the reply "
                             f"address '{code.redirect_uri}' provided when requesting Authorization code.")
        if code.code_challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                raise _missing("code_verifier")
            if not hmac.compare_digest(_pkce(verifier, code.code_challenge_method), code.code_challenge):
                raise EntraError("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge "
                                 "supplied in the authorization request.")
        return code.access

    def password(self, client: App, form: MultiDictProxy[str]) -> Access:
        username, password = _required(form, "username"), _required(form, "password")
        user = self.directory.user_by_name(username)
        if user is None:
            raise EntraError("invalid_grant", 50034, f"The user account {username} does not exist in the "
                             f"{DOMAIN} directory. To sign into this application, the account must be added to "
                             "the directory.")
        if not hmac.compare_digest(password.encode(), user.password.encode()):
            raise EntraError("invalid_grant", 50126, "Error validating credentials due to invalid username or "
                             "password.")
        return self.delegated(user, client, Scopes.parse(_required(form, "scope")))

    def refresh_token(self, client: App, form: MultiDictProxy[str]) -> Access:
        grant = self.refresh_tokens.get(_required(form, "refresh_token"))
        if grant is None or grant.client_id != client.client_id:
            raise EntraError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the "
                             "refresh token is not valid for this client.")
        user = self.directory.users[grant.user_id]
        return self.delegated(user, client, Scopes.parse(form.get("scope") or grant.scope))

    def token_response(self, access: Access, form: MultiDictProxy[str]) -> dict[str, Any]:
        issuer = self.cloud.issuer
        access_token = issuer.entra_token(
            audience=access.audience, client_id=access.client_id, user=access.user, scopes=access.scp
        )
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME,
            "access_token": access_token,
        }
        if access.user is None:
            return body
        scopes = [f"{access.resource_prefix}{scope}" for scope in access.scp]
        body["scope"] = " ".join(scopes + sorted(access.oidc - {"offline_access"}))
        if "openid" in access.oidc:
            body["id_token"] = issuer.id_token(client_id=access.client_id, user=access.user, nonce=access.nonce)
        if "offline_access" in access.oidc:
            refresh = secrets.token_urlsafe(48)
            self.refresh_tokens[refresh] = RefreshGrant(access.client_id, access.user.id,
                                                        " ".join(scopes + sorted(access.oidc)))
            body["refresh_token"] = refresh
        if form.get("client_info") == "1":
            info = json.dumps({"uid": access.user.id, "utid": self.directory.tenant_id}).encode()
            body["client_info"] = base64.urlsafe_b64encode(info).rstrip(b"=").decode()
        return body


def _required(form: MultiDictProxy[str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise _missing(name)
    return value


def _pkce(verifier: str, method: str) -> str:
    if method == "S256":
        return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier


def _consent_required(client: App) -> EntraError:
    return EntraError(
        "invalid_grant", 65001, f"The user or administrator has not consented to use the application with ID "
        f"'{client.client_id}' named '{client.display_name}'. Send an interactive authorization request for this "
        "user and resource.", suberror="consent_required"
    )


def _invalid_scope(scopes: Scopes) -> EntraError:
    asked = " ".join(f"{scopes.resource}/{name}" for name in scopes.names)
    return EntraError("invalid_scope", 70011, f"The provided request must include a 'scope' input parameter. The "
                      f"provided value for the input parameter 'scope' is not valid. The scope {asked} is not valid.")


def create_app(cloud: Cloud) -> web.Application:
    """login.microsoftonline.com: discovery, keys and the token endpoint (https)."""
    entra = cloud.entra
    login, login_ui = cloud.endpoints.login, cloud.endpoints.login_ui

    async def openid_configuration(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        try:
            tid = entra.tenant_id(tenant)
        except EntraError as error:
            return error.response(request)
        # Multi-tenant aliases keep their name in the endpoints and publish an issuer template, as Entra does.
        path_tenant = tenant if tenant.lower() in ("common", "organizations") else tid
        issuer = entra_issuer("{tenantid}" if path_tenant != tid else tid)
        return web.json_response(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{login_ui}/{path_tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{login}/{path_tenant}/oauth2/v2.0/token",
                "jwks_uri": f"{login}/{path_tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "response_modes_supported": ["query"],
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "tid",
                                     "preferred_username", "ver"],
                "request_uri_parameter_supported": False,
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": URL(cloud.endpoints.graph).raw_authority,
            }
        )

    async def keys(request: web.Request) -> web.Response:
        try:
            tid = entra.tenant_id(request.match_info["tenant"])
        except EntraError as error:
            return error.response(request)
        key = cloud.issuer.entra_key.jwk() | {"issuer": entra_issuer(tid)}
        return web.json_response({"keys": [key]})

    async def instance_discovery(request: web.Request) -> web.Response:
        """MSAL's instance discovery, for clients that keep it on: this host is its own and only alias."""
        host = URL(login).raw_authority
        path = urlsplit(request.query.get("authorization_endpoint", "")).path.strip("/").split("/")
        tenant = path[0] if path and path[0] else "common"
        return web.json_response(
            {
                "tenant_discovery_endpoint": f"{login}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            }
        )

    async def user_realm(request: web.Request) -> web.Response:
        """MSAL asks this before ROPC; every account here is managed (no federation)."""
        return web.json_response(
            {
                "ver": "1.0",
                "account_type": "Managed",
                "domain_name": DOMAIN,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_audience_urn": "urn:federation:MicrosoftOnline",
            }
        )

    async def to_sign_in_pages(request: web.Request) -> web.Response:
        """One host serves both at login.microsoftonline.com; here the pages live on their own port."""
        raise web.HTTPFound(f"{cloud.endpoints.login_ui}{request.path_qs}")

    async def token(request: web.Request) -> web.Response:
        try:
            entra.tenant_id(request.match_info["tenant"])
            fields = await _form(request)
            body = entra.token_response(entra.grant(request, fields), fields)
        except EntraError as error:
            return error.response(request)
        return web.json_response(body, headers=_no_store(str(uuid.uuid4())))

    app = web.Application()
    app.add_routes(
        [
            web.get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration),
            web.get("/{tenant}/.well-known/openid-configuration", openid_configuration),
            web.get("/{tenant}/discovery/v2.0/keys", keys),
            web.get("/common/discovery/instance", instance_discovery),
            web.get("/common/userrealm/{username}", user_realm),
            web.post("/{tenant}/oauth2/v2.0/token", token),
            web.get("/{tenant}/adminconsent", to_sign_in_pages),
        ]
    )
    return app



async def _form(request: web.Request) -> MultiDictProxy[str]:
    """The text fields of a form body (a file upload is never an OAuth parameter); a garbled body is a 400."""
    try:
        form = await request.post()
    except ValueError as error:
        raise EntraError("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.") from error
    return MultiDictProxy(MultiDict((key, value) for key, value in form.items() if isinstance(value, str)))


def _injected(fault: Fault) -> EntraError:
    """An injected fault as Entra words it: throttling and server errors are transient, the rest a failed sign-in."""
    assert fault.status is not None
    if fault.status == 429 or fault.status >= 500:
        return EntraError("temporarily_unavailable", 90033, f"A transient error has occurred. Please try again. "
                          f"{fault.message}", fault.status)
    return EntraError("invalid_request", 50000, f"There was an error issuing a token. {fault.message}", fault.status)


def fault_reply(request: web.Request, fault: Fault) -> web.Response:
    response = _injected(fault).response(request)
    response.headers.update(fault.headers)
    return response


def ui_fault_reply(_: web.Request, fault: Fault) -> web.Response:
    """The sign-in pages answer a fault with their error page, as a browser would see it."""
    error = _injected(fault)
    response = _error_page(error.code, error.message, error.status)
    response.headers.update(fault.headers)
    return response


def create_ui_app(cloud: Cloud) -> web.Application:
    """The sign-in and consent page (http): pick a demo user, accept the permissions, go back with a code."""
    entra = cloud.entra
    directory = cloud.directory

    async def authorize(request: web.Request) -> web.Response:
        query = request.query
        try:
            entra.tenant_id(request.match_info["tenant"])
            client = entra.app(query.get("client_id", ""))
        except EntraError as error:
            return _error_page(error.code, error.message)
        redirect_uri = query.get("redirect_uri", "")
        if not _redirect_allowed(client, redirect_uri):
            return _error_page(50011, f"The redirect URI '{redirect_uri}' specified in the request does not match "
                               f"the redirect URIs configured for the application '{client.client_id}'. Make sure "
                               "the redirect URI sent in the request matches one added to your application.")
        state = query.get("state")
        method = query.get("code_challenge_method") or "plain"
        if query.get("response_type") != "code":
            return _redirect_error(redirect_uri, state, "unsupported_response_type",
                                   "AADSTS700054: Only response_type 'code' is supported.")
        if query.get("response_mode", "query") != "query":
            return _redirect_error(redirect_uri, state, "invalid_request",
                                   "AADSTS900144: Only response_mode 'query' is supported.")
        if method not in ("S256", "plain"):
            return _redirect_error(redirect_uri, state, "invalid_request",
                                   "AADSTS900144: code_challenge_method must be 'S256' or 'plain'.")
        if not query.get("scope"):
            return _redirect_error(redirect_uri, state, "invalid_request", "AADSTS90014: The required field "
                                   "'scope' is missing from the credential.")
        if query.get("prompt") == "none":
            return _redirect_error(redirect_uri, state, "login_required", "AADSTS50058: A silent sign-in request "
                                   "was sent but no user is signed in.")
        try:
            scopes = Scopes.parse(query["scope"])
            entra.resource(scopes.resource)
        except EntraError as error:
            return _redirect_error(redirect_uri, state, error.error, f"AADSTS{error.code}: {error.message}")
        blocked = directory.needs_admin(client.client_id, set(scopes.names)) if scopes.resource == GRAPH_RESOURCE \
            else set()
        if blocked:
            # "Need admin approval": no user may grant these (tenant.ADMIN_ONLY_GRAPH_SCOPES).
            return _error_page(90094, f"{client.display_name} needs permission to access resources in your "
                               "organization that only an admin can grant. Please ask an admin to grant permission "
                               f"to this app before you can use it ({', '.join(sorted(map(_canonical, blocked)))}).")
        pending = AuthorizeRequest(
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            scopes=scopes,
            code_challenge=query.get("code_challenge"),
            code_challenge_method=method,
            nonce=query.get("nonce"),
            login_hint=query.get("login_hint", ""),
        )
        request_id = secrets.token_urlsafe(24)
        entra.pending = {key: value for key, value in entra.pending.items() if value.expires > time.time()}
        entra.pending[request_id] = pending
        return _consent_page(entra, request_id, pending)

    async def answer(request: web.Request) -> web.Response:
        try:
            form = await _form(request)
        except EntraError as error:
            return _error_page(error.code, error.message)
        request_id = form.get("request", "")
        pending = entra.pending.get(request_id)
        if pending is None or pending.expires < time.time():
            return _error_page(50000, "This sign-in page has expired or was already used. Go back to the app and "
                               "sign in again.")
        if form.get("action") == "cancel":
            del entra.pending[request_id]
            return _redirect_error(pending.redirect_uri, pending.state, "access_denied",
                                   "AADSTS65004: User declined to consent to access the app.")
        user = directory.user_by_name(form.get("user", ""))
        if user is None:
            return _consent_page(entra, request_id, pending, problem="Pick an account to continue.")
        del entra.pending[request_id]
        if pending.scopes.resource == GRAPH_RESOURCE and not pending.scopes.is_default:
            directory.grant(user.id, pending.client.client_id, {_canonical(name) for name in pending.scopes.names})
        try:
            access = entra.delegated(user, pending.client, pending.scopes, nonce=pending.nonce)
        except EntraError as error:
            return _redirect_error(pending.redirect_uri, pending.state, error.error,
                                   f"AADSTS{error.code}: {error.message}")
        code = secrets.token_urlsafe(48)
        entra.codes = {key: value for key, value in entra.codes.items() if value.expires > time.time()}
        entra.codes[code] = AuthCode(access, pending.redirect_uri, pending.code_challenge,
                                     pending.code_challenge_method, time.time() + CODE_LIFETIME)
        return _redirect(pending.redirect_uri, {"code": code, "state": pending.state})

    async def admin_consent(request: web.Request) -> web.Response:
        """Tenant-wide admin consent (https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent):
        `/{tenant}/adminconsent?client_id=…` lists what the registration asks for; an admin accepts for everyone."""
        try:
            entra.tenant_id(request.match_info["tenant"])
            client = entra.app(request.query.get("client_id", ""))
        except EntraError as error:
            return _error_page(error.code, error.message)
        if request.method == "GET":
            return _admin_consent_page(entra, client)
        form = await request.post()
        user = directory.user_by_name(str(form.get("user", "")))
        if user is None:
            return _admin_consent_page(entra, client, problem="Pick an account to continue.")
        if not user.admin:
            return _error_page(90094, f"Granting consent for the organization needs an administrator's role; "
                               f"{user.display_name} has none. Ask a Cloud Application Administrator.", status=403)
        granted = directory.grant_tenant_wide(client.client_id)
        body = (f'<h1>Permissions granted</h1><p data-testid="granted">{html.escape(client.display_name)} may now '
                f"use these permissions for every user of the organization: "
                f"{html.escape(', '.join(sorted(granted)) or 'none')}.</p>")
        return _html("Permissions granted", body)

    app = web.Application()
    app.add_routes(
        [
            web.get("/{tenant}/oauth2/v2.0/authorize", authorize),
            web.post("/{tenant}/oauth2/v2.0/authorize", answer),
            web.get("/{tenant}/adminconsent", admin_consent),
            web.post("/{tenant}/adminconsent", admin_consent),
        ]
    )
    return app


def _canonical(name: str) -> str:
    """A Graph permission in its documented casing when we know it (`user.read` -> `User.Read`)."""
    return next((known for known in PERMISSION_TEXT if known.lower() == name.lower()), name)


def _redirect_allowed(app: App, redirect_uri: str) -> bool:
    """Exact match, except that a loopback redirect URI may use any port, as Entra allows for native apps."""
    if redirect_uri in app.redirect_uris:
        return True
    try:
        url = URL(redirect_uri)
    except ValueError:
        return False
    if url.scheme != "http" or url.host not in ("localhost", "127.0.0.1"):
        return False
    return str(url.with_port(None)) in app.redirect_uris


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> web.Response:
    location = URL(redirect_uri).extend_query({key: value for key, value in params.items() if value is not None})
    return web.Response(status=302, headers={"Location": str(location), "Cache-Control": "no-store"})


def _redirect_error(redirect_uri: str, state: str | None, error: str, description: str) -> web.Response:
    return _redirect(redirect_uri, {"error": error, "error_description": description, "state": state})


_CSS = """
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{font-weight:600;color:#737373;margin-bottom:16px}h1{font-size:24px;font-weight:600;margin:0 0 12px}
ul{padding-left:20px}li{margin:4px 0}code{color:#605e5c;font-size:12px}fieldset{border:0;padding:0;margin:16px 0}
legend{font-weight:600;margin-bottom:8px}.user{display:flex;gap:10px;align-items:center;padding:8px;
border:1px solid #e1e1e1;margin-bottom:6px;cursor:pointer}.user:hover{background:#f3f9fd}
.user small{display:block;color:#605e5c}.actions{display:flex;gap:8px;justify-content:flex-end;margin-top:20px}
button{min-width:108px;padding:6px 12px;font-size:15px;border:1px solid #8a8886;background:#fff;cursor:pointer}
button.primary{background:#0067b8;border-color:#0067b8;color:#fff}.problem{color:#a80000}.muted{color:#605e5c}
"""


def _html(title: str, body: str, status: int = 200) -> web.Response:
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title><style>{_CSS}</style>'
            f'</head><body><main><div class="brand">Microsoft (local cloud)</div>{body}</main></body></html>')
    return web.Response(text=page, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _error_page(code: int, message: str, status: int = 400) -> web.Response:
    body = (f'<h1>Sorry, but we\'re having trouble signing you in.</h1><p class="problem" data-testid="error">'
            f"AADSTS{code}: {html.escape(message)}</p>")
    return _html("Sign in error", body, status=status)


def _permission_items(names: Iterable[str]) -> str:
    return "".join(f"<li>{html.escape(PERMISSION_TEXT.get(name, name))} <code>{html.escape(name)}</code></li>"
                   for name in names)


def _user_choices(users: Iterable[User], checked: User | None = None) -> str:
    """One radio button per user (no password: the local tenant's sign-in is a pick)."""
    return "".join(
        f'<label class="user" data-testid="user-{html.escape(user.username)}"><input type="radio" name="user" '
        f'value="{html.escape(user.username)}" required{" checked" if user == checked else ""}><span>'
        f"{html.escape(user.display_name)}<small>{html.escape(user.user_principal_name)}</small></span></label>"
        for user in users)


def _admin_consent_page(entra: Entra, client: App, problem: str | None = None) -> web.Response:
    names = [_canonical(name) for name in client.required_graph_scopes] or ["User.Read"]
    permissions = _permission_items(names)
    users = _user_choices(entra.directory.users.values())
    problem_html = f'<p class="problem" data-testid="problem">{html.escape(problem)}</p>' if problem else ""
    name = html.escape(client.display_name)
    body = (
        f'<h1>Permissions requested</h1><p><strong data-testid="app-name">{name}</strong> would like to, for '
        f'everyone in your organization:</p><ul data-testid="permissions">{permissions}</ul>{problem_html}'
        f'<form method="post"><fieldset><legend>Pick an administrator account</legend>{users}</fieldset>'
        '<p class="muted">Accepting consents on behalf of your organization.</p>'
        '<div class="actions"><button class="primary" type="submit" data-testid="accept">Accept</button></div></form>'
    )
    return _html(f"Admin consent for {client.display_name}", body, status=400 if problem else 200)


def _consent_page(entra: Entra, request_id: str, pending: AuthorizeRequest, problem: str | None = None
                  ) -> web.Response:
    client, scopes = pending.client, pending.scopes
    if scopes.resource == GRAPH_RESOURCE and scopes.is_default:
        names = sorted(entra.directory.admin_consent.get(client.client_id, frozenset())) or ["User.Read"]
    else:
        names = [_canonical(name) for name in scopes.names if name != ".default"] or ["access_as_user"]
    permissions = _permission_items(names)
    hint = entra.directory.user_by_name(pending.login_hint) if pending.login_hint else None
    users = _user_choices(entra.directory.users.values(), checked=hint)
    problem_html = f'<p class="problem" data-testid="problem">{html.escape(problem)}</p>' if problem else ""
    name = html.escape(client.display_name)
    body = (
        f'<h1>Permissions requested</h1><p><strong data-testid="app-name">{name}</strong> would like to:</p>'
        f'<ul data-testid="permissions">{permissions}</ul>{problem_html}'
        f'<form method="post"><input type="hidden" name="request" value="{html.escape(request_id)}">'
        f"<fieldset><legend>Pick an account</legend>{users}</fieldset>"
        f'<p class="muted">Local demo tenant: no password is needed. Accepting lets {name} use these permissions '
        "for you.</p>"
        '<div class="actions"><button class="primary" type="submit" name="action" value="accept" '
        'data-testid="accept">Accept</button><button type="submit" name="action" value="cancel" formnovalidate '
        'data-testid="cancel">Cancel</button></div></form>'
    )
    return _html(f"Sign in to {client.display_name}", body, status=400 if problem else 200)
