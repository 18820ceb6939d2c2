"""Who may call /api/messages: forged and misused credentials of every kind, against the agent configured as in
production.

The agent runs with `AGENT_CLOUD=public` and only its endpoints pointed at the local cloud (no anonymous access). Each
case sends one request an attacker could send and checks the answer, and that the refusal cost nothing outside the
agent: no token-service, Entra (token endpoint), Graph or channel call counted by the local cloud, and no request at the
attacker's own host (used as a serviceUrl and as a key URL in token headers). Only fetching the published signing keys
is allowed. The rules themselves are written once, in `auth/incoming.py`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from multidict import CIMultiDict

from bot import create_app
from localcloud.channels import teams_user_id
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.pki import SigningKey
from localcloud.tenant import TEAMS_DESKTOP_CLIENT_ID, USERS, stable_id
from localcloud.tokens import BOTFRAMEWORK_ISSUER, entra_issuer

ADELE, MEGAN = USERS[0], USERS[1]
FOREIGN_TENANT = stable_id("tenant:fabrikam")
OTHER_APP = stable_id("app:someone-else")
SKILL_CONSUMER = stable_id("app:copilot-studio")
"""The local tenant's Copilot Studio agent, allowed here as a skill consumer."""
ATTACKER_KEY = SigningKey.generate()
REFUSED = (400, 401, 403)


class Attacker:
    """A host the attacker controls: records every request (any method, any path) and publishes the attacker's key."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        if request.path.endswith("/keys"):
            return web.json_response({"keys": [ATTACKER_KEY.jwk() | {"endorsements": ["msteams"]}]})
        return web.json_response({"id": "1"})


@pytest.fixture(scope="module")
async def attacker() -> AsyncIterator[Attacker]:
    host = Attacker()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", host.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        host.url = str(server.make_url("/")).rstrip("/")
        yield host


@pytest.fixture(scope="module")
async def agent(threaded_cloud: Cloud) -> AsyncIterator[TestClient]:
    """The agent as configured in production: the public cloud, only its endpoints moved to the local cloud."""
    settings = threaded_cloud.agent_settings() | {"AGENT_CLOUD": "public", "SKILL_ALLOWED_CALLERS": SKILL_CONSUMER}
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    for _ in range(100):  # the start-up warm-up calls Graph once: let it finish before counting calls
        if (await client.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.1)
    yield client
    await client.close()


# --- tokens and activities ----------------------------------------------------------------------------------------


@dataclass
class Minter:
    """Signs tokens with the local cloud's keys (as Bot Service and Entra would) or the attacker's."""

    cloud: Cloud
    now: int = field(default_factory=lambda: int(time.time()))

    @property
    def app_id(self) -> str:
        return self.cloud.directory.agent.client_id

    @property
    def teams_url(self) -> str:
        return f"{self.cloud.endpoints.channels}/teams/"

    def copilot_url(self) -> str:
        return f"{self.cloud.endpoints.channels}/copilot/{uuid.uuid4()}/"

    def sign(self, claims: dict[str, Any], key: SigningKey, **header: Any) -> str:
        return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT", **header})

    def channel_claims(self, **changes: Any) -> dict[str, Any]:
        claims = {"aud": self.app_id, "iss": BOTFRAMEWORK_ISSUER, "iat": self.now, "nbf": self.now,
                  "exp": self.now + 3600, "serviceurl": self.teams_url}
        return _changed(claims, changes)

    def channel_token(self, **changes: Any) -> str:
        return self.sign(self.channel_claims(**changes), self.cloud.issuer.botframework_key)

    def user_claims(self, user: Any = MEGAN, tenant: str | None = None, **changes: Any) -> dict[str, Any]:
        tenant = tenant or self.cloud.tenant_id
        claims = {"aud": self.app_id, "iss": entra_issuer(tenant), "iat": self.now, "nbf": self.now,
                  "exp": self.now + 3600, "azp": self.app_id, "azpacr": "1", "tid": tenant, "ver": "2.0",
                  "oid": user.id, "sub": user.id, "upn": user.user_principal_name, "name": user.display_name,
                  "scp": "access_as_user"}
        return _changed(claims, changes)

    def user_token(self, user: Any = MEGAN, key: SigningKey | None = None, **changes: Any) -> str:
        return self.sign(self.user_claims(user, **changes), key or self.cloud.issuer.entra_key)

    def app_token(self, client_id: str, **changes: Any) -> str:
        claims = {"aud": self.app_id, "iss": entra_issuer(self.cloud.tenant_id), "iat": self.now, "nbf": self.now,
                  "exp": self.now + 3600, "azp": client_id, "tid": self.cloud.tenant_id, "ver": "2.0",
                  "oid": client_id, "sub": client_id, "idtyp": "app", "roles": []}
        return self.sign(_changed(claims, changes), self.cloud.issuer.entra_key)


def _changed(claims: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`claims` with `changes` applied; a change to None removes the claim."""
    merged = claims | changes
    return {name: value for name, value in merged.items() if value is not None}


def teams_activity(minter: Minter, *, user: Any = ADELE, service_url: str | None = None, text: str | None = "/me",
                   **fields: Any) -> dict[str, Any]:
    bot = {"id": f"28:{minter.app_id}", "name": "Agent"}
    return {
        "type": "message", "id": str(uuid.uuid4()), "channelId": "msteams", "text": text,
        "serviceUrl": service_url or minter.teams_url,
        "from": {"id": teams_user_id(user), "aadObjectId": user.id, "name": user.display_name},
        "recipient": bot, "conversation": {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"},
        "channelData": {"tenant": {"id": minter.cloud.tenant_id}},
    } | fields


def connector_activity(minter: Minter, *, user: Any = ADELE, delivery: str | None = "expectReplies",
                       service_url: str | None = None, text: str = "/me", **fields: Any) -> dict[str, Any]:
    activity = {
        "type": "message", "id": str(uuid.uuid4()), "channelId": "pva-studio", "text": text,
        "serviceUrl": service_url or minter.copilot_url(),
        "from": {"id": user.id, "aadObjectId": user.id, "name": user.display_name, "role": "user"},
        "recipient": {"id": minter.app_id, "name": "Agent", "role": "connectoruser"},
        "conversation": {"id": str(uuid.uuid4())},
    } | fields
    if delivery:
        activity["deliveryMode"] = delivery
    return activity


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.{signature}"


def hs256_with_public_key(minter: Minter) -> str:
    """The classic key-confusion forgery: HMAC keyed with the channel's published RSA key."""
    public = minter.cloud.issuer.botframework_key.private_key.public_key()
    secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "kid": minter.cloud.issuer.botframework_key.kid, "typ": "JWT"}
    signing_input = unsigned(header, minter.channel_claims()).rstrip(".")
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


# --- the cases --------------------------------------------------------------------------------------------------------

Headers = list[tuple[str, str]]
Body = dict[str, Any] | bytes
Build = Callable[[Minter, Attacker], tuple[Headers, Body]]


def bearer(token: str) -> Headers:
    return [("Authorization", f"Bearer {token}")]


def teams(token: Callable[[Minter, Attacker], str], **activity: Any) -> Build:
    return lambda m, a: (bearer(token(m, a)), teams_activity(m, **_resolved(activity, m, a)))


def connector(token: Callable[[Minter, Attacker], str], **activity: Any) -> Build:
    return lambda m, a: (bearer(token(m, a)), connector_activity(m, **_resolved(activity, m, a)))


def _resolved(fields: dict[str, Any], m: Minter, a: Attacker) -> dict[str, Any]:
    return {key: value(m, a) if callable(value) else value for key, value in fields.items()}


def attacker_url(path: str = "/") -> Callable[[Minter, Attacker], str]:
    return lambda _m, a: f"{a.url}{path}"


@dataclass(frozen=True)
class Case:
    build: Build
    status: int


CASES: dict[str, Case] = {
    # Headers
    "no authorization header": Case(lambda m, a: ([], teams_activity(m)), 401),
    "empty bearer": Case(lambda m, a: ([("Authorization", "Bearer ")], teams_activity(m)), 401),
    "basic scheme": Case(lambda m, a: ([("Authorization", "Basic YWRlbGU6cGFzcw==")], teams_activity(m)), 401),
    "bearer with two tokens": Case(
        lambda m, a: ([("Authorization", f"Bearer {m.channel_token()} {m.channel_token()}")], teams_activity(m)), 401),
    "two authorization headers, the first valid": Case(
        lambda m, a: (bearer(m.channel_token()) + bearer("x.y.z"), teams_activity(m)), 401),
    "two authorization headers, the second valid": Case(
        lambda m, a: (bearer("x.y.z") + bearer(m.channel_token()), teams_activity(m)), 401),
    # Signature and header
    "not a jwt": Case(teams(lambda m, a: "not-a-token"), 401),
    "alg none": Case(teams(lambda m, a: unsigned({"alg": "none", "typ": "JWT"}, m.channel_claims())), 401),
    "hs256 keyed with the published rsa key": Case(teams(lambda m, a: hs256_with_public_key(m)), 401),
    "signed by a foreign key under a published kid": Case(teams(lambda m, a: m.sign(
        m.channel_claims(), SigningKey(m.cloud.issuer.botframework_key.kid, ATTACKER_KEY.private_key))), 401),
    "signed by a foreign key under its own kid": Case(teams(lambda m, a: m.sign(m.channel_claims(), ATTACKER_KEY)),
                                                      401),
    "no kid": Case(teams(lambda m, a: jwt.encode(m.channel_claims(), m.cloud.issuer.botframework_key.private_pem,
                                                 algorithm="RS256")), 401),
    "a kid two thousand characters long": Case(teams(lambda m, a: jwt.encode(
        m.channel_claims(), m.cloud.issuer.botframework_key.private_pem, algorithm="RS256",
        headers={"kid": "k" * 2_000})), 401),
    "jku and x5u pointing at the attacker's keys": Case(teams(lambda m, a: m.sign(
        m.channel_claims(), ATTACKER_KEY, jku=f"{a.url}/keys", x5u=f"{a.url}/cert")), 401),
    "signature stripped": Case(teams(lambda m, a: m.channel_token().rsplit(".", 1)[0] + "."), 401),
    "claims swapped under a valid signature": Case(teams(lambda m, a: ".".join([
        m.channel_token().split(".")[0], unsigned({}, m.channel_claims(aud=OTHER_APP)).split(".")[1],
        m.channel_token().split(".")[2]])), 401),
    "channel claims signed with the entra key": Case(
        teams(lambda m, a: m.sign(m.channel_claims(), m.cloud.issuer.entra_key)), 401),
    # Claims of a Bot Service token
    "expired": Case(teams(lambda m, a: m.channel_token(exp=m.now - 600, iat=m.now - 4200, nbf=m.now - 4200)), 401),
    "no exp": Case(teams(lambda m, a: m.channel_token(exp=None)), 401),
    "not valid yet": Case(teams(lambda m, a: m.channel_token(nbf=m.now + 900)), 401),
    "another app's audience": Case(teams(lambda m, a: m.channel_token(aud=OTHER_APP)), 401),
    "no audience": Case(teams(lambda m, a: m.channel_token(aud=None)), 401),
    "an audience list that includes the agent": Case(
        teams(lambda m, a: m.channel_token(aud=[m.app_id, OTHER_APP])), 401),
    "a look-alike issuer": Case(teams(lambda m, a: m.channel_token(iss="https://api.botframework.com.evil.example")),
                                401),
    "no issuer": Case(teams(lambda m, a: m.channel_token(iss=None)), 401),
    "an entra issuer on the channel key": Case(teams(lambda m, a: m.channel_token(iss=entra_issuer(m.cloud.tenant_id))),
                                               401),
    # The serviceurl claim: replies go only where the channel's token vouches
    "serviceUrl elsewhere than the claim": Case(teams(lambda m, a: m.channel_token(), service_url=attacker_url("/")),
                                                401),
    "serviceUrl on the channel's host, another path": Case(teams(
        lambda m, a: m.channel_token(), service_url=lambda m, a: f"{m.cloud.endpoints.channels}/internal/admin/"), 401),
    "no serviceurl claim": Case(teams(lambda m, a: m.channel_token(serviceurl=None)), 401),
    "no serviceurl claim, serviceUrl elsewhere": Case(
        teams(lambda m, a: m.channel_token(serviceurl=None), service_url=attacker_url("/")), 401),
    "a channel the key is not endorsed for": Case(teams(lambda m, a: m.channel_token(), channelId="facebook"), 401),
    # Other credentials on the Bot Service path: the user is never what the body claims
    "a connector user token of megan on adele's teams activity": Case(teams(lambda m, a: m.user_token(MEGAN)), 401),
    "an app-only entra token for the agent": Case(teams(lambda m, a: m.app_token(m.app_id)), 401),
    "a teams sso token": Case(teams(lambda m, a: m.user_token(
        ADELE, aud=f"api://botid-{m.app_id}", azp=TEAMS_DESKTOP_CLIENT_ID)), 401),
    "another tenant's token for the agent": Case(teams(lambda m, a: m.user_token(MEGAN, tenant=FOREIGN_TENANT)), 401),
    "a skill consumer's app token that is not allowed": Case(teams(lambda m, a: m.app_token(OTHER_APP)), 401),
    "a user token on the skill path": Case(teams(lambda m, a: m.user_token(MEGAN, azp=SKILL_CONSUMER)), 401),
    # Copilot Studio's connector path
    "connector without a token": Case(lambda m, a: ([], connector_activity(m)), 401),
    "a bot service token on the connector": Case(connector(lambda m, a: m.channel_token()), 401),
    "a bot service token on the connector, normal delivery to the attacker": Case(connector(
        lambda m, a: m.channel_token(serviceurl=f"{a.url}/"), delivery=None, service_url=attacker_url("/")), 401),
    "a bot service token on the connector, stream delivery": Case(
        connector(lambda m, a: m.channel_token(), delivery="stream"), 401),
    "another tenant's user token": Case(connector(lambda m, a: m.user_token(MEGAN, tenant=FOREIGN_TENANT)), 401),
    "a user token for graph, not the agent": Case(connector(
        lambda m, a: m.user_token(MEGAN, aud="https://graph.microsoft.com")), 401),
    "a caller app that is not allowed": Case(connector(lambda m, a: m.user_token(MEGAN, azp=OTHER_APP)), 401),
    "a v1 token from a caller app that is not allowed": Case(connector(lambda m, a: m.user_token(
        MEGAN, ver="1.0", azp=None, appid=OTHER_APP, iss=f"https://sts.windows.net/{m.cloud.tenant_id}/")), 401),
    "an expired user token": Case(connector(lambda m, a: m.user_token(MEGAN, exp=m.now - 600)), 401),
    "a wrong issuer signed by the entra key": Case(connector(lambda m, a: m.user_token(
        MEGAN, iss=f"https://evil.example/{m.cloud.tenant_id}/v2.0")), 401),
    "an issuer of another tenant with our tid": Case(connector(lambda m, a: m.user_token(
        MEGAN, iss=entra_issuer(FOREIGN_TENANT))), 401),
    "user claims signed with the channel key": Case(connector(lambda m, a: m.user_token(
        MEGAN, key=m.cloud.issuer.botframework_key)), 401),
    "a user token without oid": Case(connector(lambda m, a: m.user_token(MEGAN, oid=None)), 401),
    "a user token without exp": Case(connector(lambda m, a: m.user_token(MEGAN, exp=None)), 401),
    "normal delivery to the attacker's host": Case(
        connector(lambda m, a: m.user_token(MEGAN), delivery=None, service_url=attacker_url("/")), 403),
    "normal delivery to an admin path on another host": Case(connector(
        lambda m, a: m.user_token(MEGAN), delivery="normal", service_url=attacker_url("/internal/admin")), 403),
    # Bodies that are not activities are refused before any credential is looked at
    "a body that is not json": Case(lambda m, a: (bearer(m.channel_token()), b"{not json"), 400),
    "an activity without a serviceUrl": Case(
        lambda m, a: (bearer(m.channel_token()), {k: v for k, v in teams_activity(m).items() if k != "serviceUrl"}),
        400),
}


def _traffic_outside_keys(cloud: Cloud) -> dict[str, int]:
    """Counts of every request the cloud answered except fetching published keys."""
    return {f"{row['service']} {row['method']} {row['path']}": row["count"] for row in cloud.traffic.snapshot()
            if not (row["method"] == "GET" and row["path"].endswith("/keys"))}


async def _post(agent: TestClient, headers: Headers, body: Body) -> int:
    if isinstance(body, bytes):
        response = await agent.post("/api/messages", data=body,
                                    headers=CIMultiDict([*headers, ("Content-Type", "application/json")]))
    else:
        response = await agent.post("/api/messages", json=body, headers=CIMultiDict(headers))
    text = await response.text()
    for secret in (value.partition(" ")[2] for name, value in headers if name == "Authorization"):
        assert not secret or secret not in text
    return response.status


async def test_the_suite_covers_at_least_forty_kinds_of_credential() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", list(CASES))
async def test_a_refused_request_is_answered_before_any_outbound_call(
        name: str, agent: TestClient, threaded_cloud: Cloud, attacker: Attacker) -> None:
    case = CASES[name]
    headers, body = case.build(Minter(threaded_cloud), attacker)
    before = _traffic_outside_keys(threaded_cloud)

    status = await _post(agent, headers, body)

    assert status == case.status
    assert _traffic_outside_keys(threaded_cloud) == before
    assert attacker.requests == []


async def test_nothing_reaches_the_attacker_or_the_cloud_after_the_refusals_settle(
        agent: TestClient, threaded_cloud: Cloud, attacker: Attacker) -> None:
    minter = Minter(threaded_cloud)
    before = _traffic_outside_keys(threaded_cloud)
    for case in CASES.values():
        assert await _post(agent, *case.build(minter, attacker)) in REFUSED
    await asyncio.sleep(1.0)  # anything a refused turn had started in the background would have shown by now

    assert _traffic_outside_keys(threaded_cloud) == before
    assert attacker.requests == []


async def test_a_token_accepted_once_must_still_fit_each_later_request(
        agent: TestClient, threaded_cloud: Cloud, attacker: Attacker) -> None:
    # The agent keeps tokens it has checked (`auth.incoming.VerifiedTokens`): only their signature is not checked again.
    minter = Minter(threaded_cloud)
    headers = [("Authorization", f"Bearer {minter.channel_token()}")]
    assert await _post(agent, headers, teams_activity(minter, text="help")) in (200, 202)
    before = _traffic_outside_keys(threaded_cloud)

    elsewhere = teams_activity(minter, text="help", service_url=f"{attacker.url}/teams/")
    assert await _post(agent, headers, elsewhere) == 401
    assert await _post(agent, headers, connector_activity(minter)) == 401
    assert await _post(agent, headers, teams_activity(minter, text="help", channelId="facebook")) == 401

    assert _traffic_outside_keys(threaded_cloud) == before
    assert attacker.requests == []


@pytest.mark.parametrize(("levels", "statuses"), [(50, {200, 202}), (70, {400})])
async def test_a_body_nested_past_sixty_four_levels_is_refused(
        agent: TestClient, threaded_cloud: Cloud, levels: int, statuses: set[int]) -> None:
    minter = Minter(threaded_cloud)
    nested: dict[str, Any] = {}
    for _ in range(levels):
        nested = {"level": nested}
    body = teams_activity(minter, text="help", channelData=nested)

    assert await _post(agent, [("Authorization", f"Bearer {minter.channel_token()}")], body) in statuses


@pytest.mark.parametrize(("items", "statuses"), [(1_500, {200, 202}), (2_500, {400})])
async def test_a_body_holding_more_than_two_thousand_values_is_refused(
        agent: TestClient, threaded_cloud: Cloud, items: int, statuses: set[int]) -> None:
    minter = Minter(threaded_cloud)
    body = teams_activity(minter, text="help", channelData={"items": [0] * items})

    assert await _post(agent, [("Authorization", f"Bearer {minter.channel_token()}")], body) in statuses


# --- what each path does accept ---------------------------------------------------------------------------------------


async def test_a_genuine_teams_activity_is_answered_through_the_channel(agent: TestClient,
                                                                       threaded_cloud: Cloud) -> None:
    async with LocalCloudClient(threaded_cloud.endpoints.channels) as client:
        result = await client.teams("adele", "help", agent_endpoint=str(agent.make_url("/api/messages")))

    assert result.status == 200 or result.status == 202
    assert result.replies, "the help card reached the Teams channel"


async def test_the_connector_answers_for_the_tokens_user_whatever_the_body_claims(agent: TestClient,
                                                                                  threaded_cloud: Cloud) -> None:
    minter = Minter(threaded_cloud)
    activity = connector_activity(minter, user=ADELE)  # the body says adele; the token is megan's

    response = await agent.post("/api/messages", json=activity, headers=bearer(minter.user_token(MEGAN)))

    assert response.status == 200
    shown = json.dumps((await response.json())["activities"])
    assert MEGAN.display_name in shown and ADELE.display_name not in shown


async def test_normal_delivery_on_the_connector_replies_to_an_allowed_host(agent: TestClient,
                                                                           threaded_cloud: Cloud) -> None:
    async with LocalCloudClient(threaded_cloud.endpoints.channels) as client:
        result = await client.copilot("megan", "help", delivery="normal",
                                      agent_endpoint=str(agent.make_url("/api/messages")))

    assert result.status == 202
    assert result.replies, "the help card was posted to the connector's serviceUrl"


async def test_a_service_principal_connection_is_told_it_needs_a_signed_in_user_without_entra_or_graph(
        agent: TestClient, threaded_cloud: Cloud) -> None:
    minter = Minter(threaded_cloud)
    before = _traffic_outside_keys(threaded_cloud)

    response = await agent.post("/api/messages", json=connector_activity(minter),
                                headers=bearer(minter.app_token(minter.app_id)))

    assert response.status == 200
    assert "signs in as the user" in json.dumps(await response.json())
    assert _traffic_outside_keys(threaded_cloud) == before


async def test_an_allowed_skill_consumer_gets_its_end_of_conversation(agent: TestClient, threaded_cloud: Cloud) -> None:
    minter = Minter(threaded_cloud)
    event = teams_activity(minter, type="event", name="GetProfile", channelId="directline",
                           deliveryMode="expectReplies", text=None)

    response = await agent.post("/api/messages", json=event, headers=bearer(minter.app_token(SKILL_CONSUMER)))

    assert response.status == 200
    assert [reply["type"] for reply in (await response.json())["activities"]] == ["endOfConversation"]


async def test_readiness_waits_for_the_signing_keys(agent: TestClient) -> None:
    response = await agent.get("/readyz")

    assert response.status == 200


async def test_a_reply_never_leaves_the_vouched_for_service_url_whatever_the_activitys_ids(
        agent: TestClient, threaded_cloud: Cloud, caplog: pytest.LogCaptureFixture) -> None:
    minter = Minter(threaded_cloud)  # a genuine channel token, replayed on a body whose ids walk out of the API
    activity = teams_activity(minter, text="help", id="1?admin=true",
                              conversation={"id": "../../../internal/admin", "conversationType": "personal"})
    before = {(row["method"], row["path"]) for row in threaded_cloud.traffic.snapshot() if row["service"] == "channels"}

    response = await agent.post("/api/messages", json=activity, headers=bearer(minter.channel_token()))

    assert response.status in (200, 202)
    called = {(row["method"], row["path"]) for row in threaded_cloud.traffic.snapshot() if row["service"] == "channels"}
    assert all(path.startswith("/teams/v3/") for _, path in called - before)
    assert "outside the vouched-for serviceUrl" in caplog.text
