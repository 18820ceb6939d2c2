"""Who may call `/api/messages`, and as whom: the one place the agent decides to trust a request.

The activity says which path it takes; the token must be the one kind of credential that path accepts:

- **Bot Service** (Teams, and every channel of an Azure Bot): any activity whose recipient is not `connectoruser` and
  whose token Bot Service signed: `iss` the channel issuer, `aud` the agent, `exp` present, a key endorsed for the
  activity's `channelId`, and a `serviceurl` claim equal to the activity's `serviceUrl`. The user is the activity's
  `from`, as the channel that signed the token asserts it; replies go to that vouched-for serviceUrl only.
  (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication, "Authenticate
  requests from the Bot Connector service to your bot".)
- **Copilot Studio's agent-to-agent connector**: recipient role `connectoruser` and an Entra access token of an allowed
  tenant, `aud` the agent, issued to an allowed caller app (`azp`; `appid` in v1 tokens). The user is the token's
  `oid`: the activity's `from` is replaced by it, so nothing downstream can act for anyone else. Replies come back in
  the HTTP answer (`expectReplies`, `stream`); `normal` delivery posts to the serviceUrl, so only to an allowed host.
  A service principal's token (no `scp`) is admitted: such a connection gets a plain answer and no Graph call.
- **Copilot Studio as a skill consumer**: only when `SKILL_ALLOWED_CALLERS` names the calling Copilot Studio agent; an
  Entra app token (no `scp`) of an allowed tenant, `aud` the agent. Replies as for the connector.
- On a **local cloud** only: a loopback request without Authorization (the Agents Playground), replying to loopback.

Everything else is answered before the SDK runs, so no token-service, Entra, Graph or reply call is ever made for it:
400 for a body that is not an activity, 401 for a credential the path does not accept, 403 for a reply address that
is not allowed, 503 while the signing keys cannot be fetched.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import jwt
from aiohttp import web
from microsoft_agents.activity import Activity, ChannelAccount, DeliveryModes, RoleTypes
from microsoft_agents.hosting.core.authorization import AuthenticationConstants, ClaimsIdentity
from pydantic import ValidationError

from .cloud import LOOPBACK_HOSTS, Cloud
from .keys import KeySets, KeysUnavailable, SigningKey
from .unverified import unverified_claims

log = logging.getLogger(__name__)

CLOCK_SKEW = 300
"""Seconds of leeway on `exp` and `nbf`: "industry-standard clock-skew is 5 minutes" (the Bot Connector page above)."""
ADMITTED_ACTIVITY = web.RequestKey("admitted_activity", Activity)
"""The activity as admitted (on the connector path with the token's user as `from`): what the SDK is given."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Path(Enum):
    """The way a request was admitted, decided once by `CallerRules.admit`. It travels with the turn as the claims
    identity's `authentication_type` (the SDK hands that identity to the turn's `TurnContext.identity`, and to the
    command run after sign-in), and is read back only through `admitted_path`: nothing after admission asks the body
    again (its `recipient.role` chose the path, but it is the path's credential that was checked)."""

    BOT_SERVICE = "BotService"
    CONNECTOR = "CopilotStudioConnector"
    SKILL = "CopilotStudioSkill"
    LOOPBACK = "LocalCloudLoopback"
    """An unauthenticated loopback request to an agent on a local cloud (the Agents Playground)."""


def admitted_path(identity: ClaimsIdentity | None) -> Path | None:
    """The path the turn's request was admitted on, from the identity `Admitted.identity` made; None for any other
    identity (one a test or the SDK made), which then counts as no path in particular."""
    kind = identity.authentication_type if identity is not None else None
    return _PATHS.get(kind) if kind else None


_PATHS = {path.value: path for path in Path}


class Refused(Exception):
    """A request the agent will not run. `reason` goes to the log (never a token); the caller gets only the status."""

    MESSAGES = {
        400: "The body is not an activity this agent can read.",
        401: "The request's credentials are not accepted for this activity.",
        403: "This agent does not reply to that serviceUrl.",
        503: "The agent cannot check credentials right now; try again shortly.",
    }

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        headers = {"Retry-After": "5"} if self.status == 503 else None
        return web.json_response({"error": self.MESSAGES[self.status]}, status=self.status, headers=headers)


@dataclass(frozen=True)
class Admitted:
    path: Path
    claims: dict[str, Any]
    activity: Activity
    token: str | None = None

    @property
    def identity(self) -> ClaimsIdentity:
        """The claims as the SDK reads them, carrying the path for the rest of the turn (`admitted_path`)."""
        return ClaimsIdentity(self.claims, self.path.value, self.token)


@dataclass(frozen=True)
class CallerRules:
    """What each path accepts; built once from the settings (see `caller_rules`)."""

    cloud: Cloud
    app_id: str
    tenants: frozenset[str]
    """Tenants whose Entra tokens are accepted (connector and skill); lower case."""
    connector_callers: frozenset[str]
    skill_callers: frozenset[str]
    reply_hosts: frozenset[str]
    """`host` or `host:port` (lower case) to which a connector or skill reply may be POSTed (normal delivery)."""
    keys: KeySets
    verified: VerifiedTokens = field(default_factory=lambda: VerifiedTokens())
    """Tokens already checked, so a token presented again costs no second signature check."""

    @property
    def key_urls(self) -> list[str]:
        """Every key set a request may need: Bot Framework's, and Entra's for each accepted tenant."""
        return [self.cloud.botframework_jwks_url, *(self._entra_keys(tenant) for tenant in sorted(self.tenants))]

    def ready(self) -> bool:
        return all(self.keys.loaded(url) for url in self.key_urls)

    async def admit(self, request: web.Request) -> Admitted:
        authorizations = request.headers.getall("Authorization", [])
        if len(authorizations) > 1:
            raise Refused(401, "more than one Authorization header")
        activity = await _admitted_activity(request)
        # The one place the body is asked which path it takes; that path's credential is what is checked next.
        connector = activity.recipient is not None and activity.recipient.role == RoleTypes.connector_user
        if not connector:  # on the connector the token's user becomes `from`
            _require("from.id", activity.from_property and activity.from_property.id)
        if not authorizations:
            return self._loopback(request, activity, connector)
        token = _bearer(authorizations[0])
        header = self.verified.header(token) or _header(token)
        if connector:
            return await self._connector(token, header, activity)
        if self.skill_callers and self._unverified(token).get("iss") != self.cloud.channel_token_issuer:
            return await self._skill(token, header, activity)
        return await self._bot_service(token, header, activity)

    def _loopback(self, request: web.Request, activity: Activity, connector: bool) -> Admitted:
        if not (self.cloud.is_local and is_loopback(request.remote)):
            raise Refused(401, "no Authorization header")
        if connector:
            raise Refused(401, "a connector activity without a token")
        if urlsplit(activity.service_url or "").hostname not in LOOPBACK_HOSTS:
            raise Refused(403, "an unauthenticated loopback request whose serviceUrl is not on loopback")
        return Admitted(Path.LOOPBACK, {AuthenticationConstants.AUDIENCE_CLAIM: self.app_id}, activity)

    async def _bot_service(self, token: str, header: Mapping[str, Any], activity: Activity) -> Admitted:
        key = await self._signing_key(self.cloud.botframework_jwks_url, header)
        claims = self._decode(token, header, key.key, [self.cloud.channel_token_issuer], required=["serviceurl"])
        # Endorsements name the channel of the JSON `channelId`: `msteams` also for Microsoft 365 Copilot, which the SDK
        # reads as `msteams:COPILOT` from its `ProductInfo` entity.
        channel = activity.channel_id.channel if activity.channel_id else ""
        if channel not in key.endorsements:
            raise Refused(401, f"the signing key is not endorsed for channel {channel!r}")
        if not same_url(str(claims["serviceurl"]), activity.service_url or ""):
            raise Refused(401, "the serviceurl claim does not match the activity's serviceUrl")
        return Admitted(Path.BOT_SERVICE, claims, activity, token)

    async def _connector(self, token: str, header: Mapping[str, Any], activity: Activity) -> Admitted:
        claims = await self._entra_claims(token, header, self.connector_callers)
        user_id = claims.get("oid")
        if not isinstance(user_id, str) or not user_id:
            raise Refused(401, "a connector token without oid")
        self._check_reply_address(activity)
        # The token's user (or service principal), never the body's: sign-in state and replies key on `from.id`.
        activity.from_property = ChannelAccount(id=user_id, aad_object_id=user_id, name=str(claims.get("name") or ""),
                                                role=RoleTypes.user)
        return Admitted(Path.CONNECTOR, claims, activity, token)

    async def _skill(self, token: str, header: Mapping[str, Any], activity: Activity) -> Admitted:
        claims = await self._entra_claims(token, header, self.skill_callers)
        if "scp" in claims:
            raise Refused(401, "a user token on the skill path (a skill consumer calls with its app token)")
        self._check_reply_address(activity)
        return Admitted(Path.SKILL, claims, activity, token)

    async def _entra_claims(self, token: str, header: Mapping[str, Any], callers: frozenset[str]) -> dict[str, Any]:
        """An Entra access token of an accepted tenant (checked before any key is fetched for it), for the agent,
        from one of `callers`."""
        tenant = self._unverified(token).get("tid")
        if not isinstance(tenant, str) or tenant.lower() not in self.tenants:
            raise Refused(401, "an Entra token of a tenant that is not accepted")
        key = await self._signing_key(self._entra_keys(tenant.lower()), header)
        issuers = [template.replace("{tenant}", tenant) for template in self.cloud.entra_token_issuers]
        claims = self._decode(token, header, key.key, issuers, required=["tid"])
        if str(claims["tid"]).lower() != tenant.lower():
            raise Refused(401, "the tid claim changed between reads")
        caller = claims.get("azp") if claims.get("ver") == "2.0" else claims.get("appid")
        if not isinstance(caller, str) or caller.lower() not in callers:
            raise Refused(401, "an Entra token issued to a caller app that is not allowed")
        return claims

    def _check_reply_address(self, activity: Activity) -> None:
        """Replies in the HTTP answer go nowhere else; `normal` delivery POSTs to the serviceUrl."""
        if activity.delivery_mode in (DeliveryModes.expect_replies, DeliveryModes.stream):
            return
        parts = urlsplit(activity.service_url or "")
        host = (parts.netloc or "").lower()
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
        if not secure or host not in self.reply_hosts:
            raise Refused(403, f"normal delivery to a serviceUrl host that is not allowed ({host or 'none'})")

    async def _signing_key(self, url: str, header: Mapping[str, Any]) -> SigningKey:
        try:
            key = await self.keys.key(url, str(header["kid"]))
        except KeysUnavailable:
            raise Refused(503, f"the signing keys at {url} could not be fetched") from None
        if key is None:
            raise Refused(401, "a token signed with a key that is not published")
        return key

    def _unverified(self, token: str) -> dict[str, Any]:
        """Claims read only to pick the key set and issuer to check against (a kept token's, as checked)."""
        return self.verified.claims_as_read(token) or _unverified(token)

    def _decode(self, token: str, header: Mapping[str, Any], key: jwt.PyJWK, issuers: list[str],
                required: list[str]) -> dict[str, Any]:
        rules = (*issuers, "|", *required)
        known = self.verified.claims(token, key, rules)
        if known is not None:
            return known
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self.app_id, issuer=issuers,
                                leeway=CLOCK_SKEW, options={"require": ["exp", "iss", "aud", *required]})
        except jwt.PyJWTError as error:
            raise Refused(401, f"the token failed validation ({type(error).__name__})") from None
        if claims["aud"] != self.app_id:  # a list that merely contains the agent is not a token for the agent
            raise Refused(401, "the aud claim is not the agent's id alone")
        self.verified.keep(token, key, rules, dict(header), claims)
        return claims

    def _entra_keys(self, tenant: str) -> str:
        return self.cloud.entra_jwks_url.replace("{tenant}", tenant)


@dataclass(frozen=True)
class _Checked:
    key: jwt.PyJWK
    rules: tuple[str, ...]
    header: dict[str, Any]
    claims: dict[str, Any]


class VerifiedTokens:
    """Tokens that passed `_decode`, with their header and claims, until they expire.

    Bot Service and Copilot Studio present the same bearer token request after request until it nears expiry (as any
    OAuth client keeps its access token); parsing it and checking its RSA signature each time would be a noticeable
    share of every turn's CPU, spent on an answer already known. A kept token counts as checked only against the same
    key object (after the key set is refetched or the key is gone, it is checked in full again), the same issuers and
    required claims, and while `exp` is within the clock skew PyJWT allows: exactly when checking it again would pass.
    The audience is the agent's for every check. The rest (the key's endorsement, the serviceurl, the tenant and
    caller lists) is checked on every request. Only tokens whose signature was checked are kept, so a caller cannot
    fill this with tokens of its own making."""

    SIZE = 1024
    """Tokens kept at most (about 5 KB each, with their header and claims); the least recently used goes first."""

    def __init__(self) -> None:
        self._checked: OrderedDict[str, _Checked] = OrderedDict()

    def header(self, token: str) -> dict[str, Any] | None:
        kept = self._checked.get(token)
        return kept.header if kept else None

    def claims_as_read(self, token: str) -> dict[str, Any] | None:
        """A kept token's claims, to route by as `_unverified` would (its signature is checked by `claims`)."""
        kept = self._checked.get(token)
        return kept.claims if kept else None

    def claims(self, token: str, key: jwt.PyJWK, rules: tuple[str, ...]) -> dict[str, Any] | None:
        """The claims of `token` if it passed with this very `key` and the same `rules` (issuers, required claims)
        and has not expired since."""
        kept = self._checked.get(token)
        if kept is None or kept.key is not key or kept.rules != rules:
            return None
        if kept.claims["exp"] <= time.time() - CLOCK_SKEW:
            del self._checked[token]
            return None
        self._checked.move_to_end(token)
        return dict(kept.claims)

    def keep(self, token: str, key: jwt.PyJWK, rules: tuple[str, ...], header: dict[str, Any],
             claims: dict[str, Any]) -> None:
        self._checked[token] = _Checked(key, rules, header, dict(claims))
        self._checked.move_to_end(token)
        while len(self._checked) > self.SIZE:
            self._checked.popitem(last=False)


def caller_rules(settings: Mapping[str, str], cloud: Cloud, app_id: str, tenant_id: str) -> CallerRules:
    """The rules from the settings documented in `.env.example`.

    `CONNECTOR_ALLOWED_CALLERS` defaults to the agent's own id: Copilot Studio's connector signs the user in with the
    agent's app registration, so its tokens carry `azp` = `aud` = the agent, which is also what makes them exchangeable
    on-behalf-of (the SDK's `TokenResponse.is_exchangeable`; Microsoft's Copilot Studio Agent Connector sample,
    "Enable authentication with your App Registration"). Microsoft documents no host for normal delivery on the
    connector (its design describes `expectReplies` and `stream`), so none is allowed until configured.
    """
    tenants = setting_list(settings, TENANTS_KEY) or {tenant_id.lower()} - {""}
    connector_callers = setting_list(settings, CONNECTOR_CALLERS_KEY) or {app_id.lower()}
    return CallerRules(
        cloud=cloud,
        app_id=app_id,
        tenants=frozenset(tenants),
        connector_callers=frozenset(connector_callers),
        skill_callers=frozenset(setting_list(settings, SKILL_CALLERS_KEY)),
        reply_hosts=frozenset(setting_list(settings, REPLY_HOSTS_KEY)),
        keys=KeySets(cloud.ssl_context()),
    )


TENANTS_KEY = "CONNECTOR_ALLOWED_TENANTS"
CONNECTOR_CALLERS_KEY = "CONNECTOR_ALLOWED_CALLERS"
SKILL_CALLERS_KEY = "SKILL_ALLOWED_CALLERS"
REPLY_HOSTS_KEY = "COPILOT_STUDIO_REPLY_HOSTS"


def setting_list(settings: Mapping[str, str], key: str) -> set[str]:
    """A comma-separated setting's items, lower case (ids and hosts compare case-insensitively)."""
    return {item.strip().lower() for item in settings.get(key, "").replace(";", ",").split(",") if item.strip()}


def authenticated(handler: Handler, rules: CallerRules) -> Handler:
    """`handler` for admitted requests only: the claims identity and the admitted activity are on the request, as the
    SDK's adapter reads them (`claims_identity`, `ADMITTED_ACTIVITY`)."""

    async def admitted_handler(request: web.Request) -> web.StreamResponse:
        try:
            admitted = await rules.admit(request)
        except Refused as refused:
            log.warning("Refused a request to /api/messages (%d): %s", refused.status, refused.reason)
            return refused.response()
        request["claims_identity"] = admitted.identity
        request[ADMITTED_ACTIVITY] = admitted.activity
        return await handler(request)

    return admitted_handler


def is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def same_url(vouched: str, given: str) -> bool:
    """Whether two serviceUrls name the same endpoint: scheme and host compared case-insensitively, the path exactly,
    a trailing slash ignored (Teams sends `https://smba.trafficmanager.net/amer/` in both places)."""
    a, b = urlsplit(vouched.strip()), urlsplit(given.strip())
    return (a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/"), a.query) == (
        b.scheme.lower(), b.netloc.lower(), b.path.rstrip("/"), b.query) and a.scheme.lower() in ("https", "http")


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token.split(maxsplit=1)) > 1:
        raise Refused(401, "the Authorization header is not one bearer token")
    return token


def _header(token: str) -> dict[str, Any]:
    """The token's header, which must name an RS256 key: anything else (`none`, HMAC, no `kid`) is refused unread."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused(401, "the bearer token is not a JWT") from None
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not 0 < len(kid) <= 128:
        raise Refused(401, "the token does not name an RS256 signing key")
    return header


def _unverified(token: str) -> dict[str, Any]:
    """Claims read only to pick the key set and issuer to check against; nothing is trusted before the signature."""
    claims = unverified_claims(token)
    if claims is None:
        raise Refused(401, "the bearer token is not a JWT")
    return claims


async def _admitted_activity(request: web.Request) -> Activity:
    """The body as the activity the SDK reads, with the fields every path needs (`from.id` is the Bot Service's and
    the skill's, checked by `admit`); else 400 naming what is wrong."""
    if request.content_type != "application/json":
        raise Refused(400, f"Content-Type {request.content_type!r} is not application/json")
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body is not a JSON object")
    # Each level of nesting needs a bracket, and each value but the first in an array or object a comma before it: a
    # body with few of both (a Teams message has about ten brackets and a hundred commas) is within both limits and is
    # not walked.
    brackets = raw.count(b"{") + raw.count(b"[")
    if brackets > MAX_DEPTH or 1 + brackets + raw.count(b",") > MAX_VALUES:
        depth, values = _shape(body, MAX_VALUES)
        if values > MAX_VALUES:
            raise Refused(400, f"the body holds more than {MAX_VALUES:,} values")
        if depth > MAX_DEPTH:
            raise Refused(400, f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        activity = Activity.model_validate(body)
    except (ValidationError, ValueError, TypeError, RecursionError) as error:  # ChannelId raises TypeError
        raise Refused(400, f"the activity's {_first_field(error)} is not valid") from None
    conversation_id = activity.conversation.id if activity.conversation else None
    required = [("type", activity.type), ("conversation.id", conversation_id), ("serviceUrl", activity.service_url),
                ("channelId", activity.channel_id), ("recipient.id", activity.recipient and activity.recipient.id)]
    for name, value in required:
        _require(name, value)
    if urlsplit(activity.service_url or "").scheme not in ("https", "http"):
        raise Refused(400, "the activity's serviceUrl is not an http(s) URL")
    ids = [("id", activity.id), ("conversation.id", conversation_id),
           ("recipient.id", activity.recipient and activity.recipient.id),
           ("from.id", activity.from_property and activity.from_property.id)]
    for name, value in ids:
        if isinstance(value, str) and (len(value) > MAX_ID_LENGTH or not value.isprintable()):
            raise Refused(400, f"the activity's {name} is not an id")
    return activity


def _require(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise Refused(400, f"the activity has no {name}")


MAX_ID_LENGTH = 512
"""The longest id (activity, conversation, user) admitted; ids hold no control or other unprintable characters. Not
documented: Teams, Copilot Studio and Bot Service ids are short printable strings, and each travels percent-encoded in
the URLs of the token service (`userId`) and the channel's reply API (conversation and activity ids), which refuse a
request line past 8 KB: an id that could not fit there is refused here, in one line, instead of failing the turn."""
MAX_DEPTH = 64
"""How deeply a body may nest: Teams' and Copilot Studio's activities (card data included) stay far below it, while
the SDK fails to serialize a reply whose recipient (the activity's `from`) nests a few hundred levels deep."""
MAX_VALUES = 2_000
"""How many JSON values (objects, arrays, strings, numbers...) a body may hold. Teams limits a message to about 100 KB
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages), and the activity it makes
of one holds about a hundred values, a card's data a few hundred more. Past that, validation is what costs: its time
and memory grow with the values (pydantic lists every refused one), and it blocks every conversation meanwhile. The
limit keeps one body's validation short and small (measured: `docs/performance.md`)."""


def _shape(value: Any, most: int) -> tuple[int, int]:
    """How many arrays and objects deep `value` goes, and how many values it holds, without recursion; the walk stops
    once it has seen more than `most` values."""
    deepest, values, level = 0, 0, [(value, 1)]
    while level and values <= most:
        node, depth = level.pop()
        values += 1
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            level.extend((child, depth + 1) for child in children)
    return deepest, values


def _first_field(error: Exception) -> str:
    """The first field validation refused (listing the errors builds one dict per refused value: once, and lean)."""
    if isinstance(error, ValidationError):
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        if errors:
            return ".".join(str(part) for part in errors[0]["loc"]) or "body"
    return "body"
