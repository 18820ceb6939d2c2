"""A signed-in user's turn asks storage once whether a sign-in is pending (with Blob storage each ask is a round trip),
and a sign-in saved during the turn is read back as saved."""

from __future__ import annotations

from collections import Counter
from typing import Any

from microsoft_agents.activity import Activity, load_configuration_from_env
from microsoft_agents.hosting.core import StoreItem, TurnContext
from microsoft_agents.hosting.core.app.oauth._sign_in_state import _SignInState

from auth.cloud import cloud_from_settings
from auth.connections import build_adapter, build_connections
from auth.sign_in import AgentAuthorization
from localcloud.cloud import Cloud
from state import MemoryStateStorage


class CountingStorage(MemoryStateStorage):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    async def read(self, keys: list[str], **kwargs: Any) -> Any:
        self.calls["read"] += 1
        return await super().read(keys, **kwargs)

    async def write(self, changes: dict[str, StoreItem]) -> None:
        self.calls["write"] += 1
        await super().write(changes)

    async def delete(self, keys: list[str]) -> None:
        self.calls["delete"] += 1
        await super().delete(keys)


def _turn(cloud: Cloud) -> tuple[AgentAuthorization, CountingStorage, TurnContext]:
    settings = cloud.agent_settings()
    local = cloud_from_settings(settings)
    config = load_configuration_from_env(settings)
    connections = build_connections(config, local)
    storage = CountingStorage()
    activity = Activity.model_validate({"type": "message", "channelId": "msteams", "text": "/me",
                                        "serviceUrl": "https://smba.example/amer/", "from": {"id": "29:adele"},
                                        "conversation": {"id": "a:adele"}, "recipient": {"id": "28:agent"}})
    context = TurnContext(build_adapter(connections, local, 10), activity)
    return AgentAuthorization(storage, connections, **config), storage, context


async def test_a_turn_without_a_pending_sign_in_reads_it_once_and_deletes_nothing(threaded_cloud: Cloud) -> None:
    auth, storage, context = _turn(threaded_cloud)

    found = [await auth._load_sign_in_state(context) for _ in range(3)]
    await auth._delete_sign_in_state(context)

    assert found == [None, None, None]
    assert storage.calls == Counter(read=1)


async def test_a_sign_in_saved_during_the_turn_is_read_back_and_can_be_deleted(threaded_cloud: Cloud) -> None:
    auth, storage, context = _turn(threaded_cloud)
    await auth._load_sign_in_state(context)

    await auth._save_sign_in_state(context, _SignInState(active_handler_id="GRAPH"))
    saved = await auth._load_sign_in_state(context)
    await auth._delete_sign_in_state(context)

    assert saved is not None and saved.active_handler_id == "GRAPH"
    assert await auth._load_sign_in_state(context) is None
    assert storage.calls == Counter(read=2, write=1, delete=1)
