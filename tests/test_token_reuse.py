"""A token is asked for once and reused only where it is still the same user's and still good: the on-behalf-of cache
(`auth.token_cache`) in front of Entra, and the token the route's sign-in check got this turn (`AgentAuthorization`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import jwt
import pytest
from microsoft_agents.activity import Activity, load_configuration_from_env
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from auth import channel_http
from auth.cloud import cloud_from_settings
from auth.connections import AgentAdapter, ConnectorAwareClientFactory, build_connections
from auth.token_cache import EXPIRY_MARGIN, TokenCache, on_behalf_of_key
from localcloud.client import LocalCloudClient
from localcloud.cloud import Cloud
from localcloud.launcher import CloudProcess, free_port, start_agent
from tests.support import adaptive_cards, is_profile_of, oauth_links, sign_in

OBO = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRAPH_SCOPES = ["https://graph.microsoft.com/.default"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_is_handed_out_until_five_minutes_before_it_expires() -> None:
    clock = Clock()
    cache = TokenCache(clock=clock)
    cache.put("key", "token", expires_in=3600)

    clock.now += 3600 - EXPIRY_MARGIN - 1
    assert cache.get("key") == "token"
    clock.now += 1
    assert cache.get("key") is None


def test_a_token_without_a_lifetime_or_about_to_expire_is_not_kept() -> None:
    cache = TokenCache()
    cache.put("no lifetime", "token", expires_in=None)
    cache.put("short", "token", expires_in=EXPIRY_MARGIN)

    assert cache.get("no lifetime") is None and cache.get("short") is None and len(cache) == 0


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    cache = TokenCache(size=2)
    cache.put("a", "token a", expires_in=3600)
    cache.put("b", "token b", expires_in=3600)
    cache.get("a")
    cache.put("c", "token c", expires_in=3600)

    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == ("token a", None, "token c", 2)


def test_the_key_is_the_assertion_and_the_scopes_in_any_order() -> None:
    key = on_behalf_of_key("assertion of adele", ["User.Read", "Mail.Read"])

    assert key == on_behalf_of_key("assertion of adele", ["Mail.Read", "User.Read"])
    assert key != on_behalf_of_key("assertion of megan", ["User.Read", "Mail.Read"])
    assert key != on_behalf_of_key("assertion of adele", ["User.Read"])
    assert "assertion" not in key


def _assertion(cloud: Cloud, username: str) -> str:
    user = next(user for user in cloud.directory.users.values() if user.username == username)
    agent = cloud.directory.agent.client_id
    return cloud.issuer.entra_token(audience=agent, client_id=agent, user=user, scopes=["access_as_user"])


def _exchanges(cloud: Cloud) -> Counter[str]:
    return Counter(cloud.traffic.grants().get(OBO, {}))


async def test_the_same_assertion_is_exchanged_with_entra_once_and_each_user_gets_their_own_token(
    threaded_cloud: Cloud,
) -> None:
    settings = threaded_cloud.agent_settings()
    connection = build_connections(load_configuration_from_env(settings), cloud_from_settings(settings)) \
        .get_connection("SERVICE_CONNECTION")
    adele, megan = _assertion(threaded_cloud, "adele"), _assertion(threaded_cloud, "megan")
    before = _exchanges(threaded_cloud)

    first = await connection.acquire_token_on_behalf_of(GRAPH_SCOPES, adele)
    again = await connection.acquire_token_on_behalf_of(GRAPH_SCOPES, adele)
    other = await connection.acquire_token_on_behalf_of(GRAPH_SCOPES, megan)

    exchanged = _exchanges(threaded_cloud) - before
    oids = {jwt.decode(token, options={"verify_signature": False})["oid"] for token in (first, other)}
    assert again == first and other != first and len(oids) == 2
    assert sorted(exchanged.values()) == [1, 1]


async def test_a_new_token_from_copilot_studio_is_exchanged_anew(threaded_cloud: Cloud) -> None:
    settings = threaded_cloud.agent_settings()
    connection = build_connections(load_configuration_from_env(settings), cloud_from_settings(settings)) \
        .get_connection("SERVICE_CONNECTION")
    before = _exchanges(threaded_cloud)

    for _ in range(2):
        await connection.acquire_token_on_behalf_of(GRAPH_SCOPES, _assertion(threaded_cloud, "diego"))

    assert sum((_exchanges(threaded_cloud) - before).values()) == 2


# --- end to end: the agent in its own process --------------------------------------------------------------------


def _token_service_calls(traffic: dict[str, Any]) -> int:
    return sum(row["count"] for row in traffic["requests"] if row["service"] == "tokenservice")


def _user_exchanges(traffic: dict[str, Any]) -> int:
    return sum(traffic["entra_grants"].get(OBO, {}).values())


@pytest.fixture
async def local(cloud: CloudProcess) -> Any:
    async with LocalCloudClient(cloud.url) as client:
        yield client


async def test_a_signed_in_teams_users_turn_asks_the_token_service_once(local: LocalCloudClient,
                                                                       agent_endpoint: str) -> None:
    await sign_in(local, agent_endpoint, "lidia", [])
    before = await local.traffic_and_grants()

    sent = await local.teams("lidia", "/me", agent_endpoint=agent_endpoint)

    after = await local.traffic_and_grants()
    assert any(is_profile_of("lidia")(reply) for reply in sent.replies)
    assert _token_service_calls(after) - _token_service_calls(before) == 1


async def test_copilot_studio_asking_again_with_the_same_token_costs_one_exchange(local: LocalCloudClient,
                                                                                 agent_endpoint: str) -> None:
    before = await local.traffic_and_grants()

    for _ in range(3):
        answer = await local.copilot("isaiah", "/me", agent_endpoint=agent_endpoint, held_token=True)
        assert adaptive_cards_of(answer.replies)

    after = await local.traffic_and_grants()
    assert _user_exchanges(after) - _user_exchanges(before) <= 1


def adaptive_cards_of(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [attachment["content"] for reply in replies for attachment in reply.get("attachments") or []
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"]


async def test_a_sign_out_on_another_instance_takes_effect_on_the_next_turn(
    local: LocalCloudClient, cloud: CloudProcess, agent_endpoint: str, tmp_path: Path
) -> None:
    port = free_port()
    other = start_agent(cloud.env_file, port, log_file=tmp_path / "other-instance.log")
    try:
        await sign_in(local, agent_endpoint, "alex", [])
        signed_in = await local.teams("alex", "/me", agent_endpoint=agent_endpoint)
        await local.teams("alex", "/logout", agent_endpoint=f"http://127.0.0.1:{port}/api/messages")

        next_turn = await local.teams("alex", "/me", agent_endpoint=agent_endpoint)
    finally:
        other.stop()

    assert any(is_profile_of("alex")(reply) for reply in signed_in.replies)
    assert oauth_links(next_turn.replies) and not adaptive_cards(next_turn.replies)


# --- the channel clients and the agent's own token, kept for the process -------------------------------------------


def _factory(cloud: Cloud) -> ConnectorAwareClientFactory:
    settings = cloud.agent_settings()
    local = cloud_from_settings(settings)
    return ConnectorAwareClientFactory(build_connections(load_configuration_from_env(settings), local), local,
                                       token_service_endpoint=local.token_service_endpoint)


def _teams_turn(cloud: Cloud, factory: ConnectorAwareClientFactory,
                service_url: str) -> tuple[TurnContext, ClaimsIdentity]:
    """A Teams message's turn context, as the SDK's adapter makes it before it asks the factory for clients."""
    app_id = cloud.directory.agent.client_id
    activity = Activity.model_validate({
        "type": "message", "channelId": "msteams", "serviceUrl": service_url, "text": "/me",
        "from": {"id": "29:someone"}, "conversation": {"id": "a:1"},
        "recipient": {"id": f"28:{app_id}", "role": "bot"}})
    identity = ClaimsIdentity({"aud": app_id, "iss": "https://api.botframework.com", "serviceurl": service_url},
                              authentication_type="Bearer")
    adapter = AgentAdapter(connection_manager=factory._connection_manager, channel_service_client_factory=factory,
                           turn_seconds=10)
    return TurnContext(adapter, activity, identity), identity


async def test_a_turns_channel_clients_are_kept_for_the_next_turn_and_closed_with_the_app(
    threaded_cloud: Cloud,
) -> None:
    factory = _factory(threaded_cloud)
    context, identity = _teams_turn(threaded_cloud, factory, "https://smba.example/amer/")

    tokens = await factory.create_user_token_client(context, identity)
    connector = await factory.create_connector_client(context, identity, "https://smba.example/amer/",
                                                      "https://api.botframework.com")
    await tokens.close()  # what the adapter does after every turn
    await connector.close()
    again = (await factory.create_user_token_client(context, identity),
             await factory.create_connector_client(context, identity, "https://smba.example/amer/",
                                                   "https://api.botframework.com"))

    assert again == (tokens, connector) and not tokens.client.closed
    assert tokens.client.headers["Authorization"].startswith("Bearer ey")
    await factory.aclose()
    assert tokens.client.closed and connector.client.closed  # type: ignore[attr-defined]


async def test_each_endpoint_has_its_own_client_and_the_least_recently_used_is_retired(
    threaded_cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_http, "RETIRED_SESSION_SECONDS", 0)
    factory = _factory(threaded_cloud)
    factory.CLIENTS = 2
    clients = []
    for region in ("amer", "emea", "apac"):
        context, identity = _teams_turn(threaded_cloud, factory, f"https://smba.example/{region}/")
        clients.append(await factory.create_connector_client(context, identity, f"https://smba.example/{region}/",
                                                             "https://api.botframework.com"))
    await asyncio.sleep(0.05)

    assert len({id(client) for client in clients}) == 3
    assert [client.client.closed for client in clients] == [True, False, False]  # type: ignore[attr-defined]
    await factory.aclose()


async def test_the_agents_own_token_is_asked_of_entra_once_for_many_turns(threaded_cloud: Cloud) -> None:
    settings = threaded_cloud.agent_settings()
    connection = build_connections(load_configuration_from_env(settings), cloud_from_settings(settings)) \
        .get_default_connection()
    app_id = threaded_cloud.directory.agent.client_id
    before = Counter(threaded_cloud.traffic.grants().get("client_credentials", {}))

    tokens = {await connection.get_access_token("https://api.botframework.com",
                                                ["https://api.botframework.com/.default"]) for _ in range(3)}

    assert len(tokens) == 1
    assert (Counter(threaded_cloud.traffic.grants().get("client_credentials", {})) - before)[app_id] == 1
