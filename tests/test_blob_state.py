"""The state storage's concurrency contract, on Azurite (two clients, as two instances have) and in memory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import ConversationState, StoreItem, TurnContext
from microsoft_agents.hosting.core.app.oauth._sign_in_state import _SignInState
from microsoft_agents.hosting.core.storage._type_aliases import JSON

from localcloud.launcher import AzuriteProcess, CloudProcess
from state import ConcurrentStorage, MemoryStateStorage, StorageConflict, build_storage
from state.blob import BlobStateStorage
from turn.faults import ServiceUnavailable


class Note(StoreItem):
    def __init__(self, text: str) -> None:
        self.text = text

    def store_item_to_json(self) -> JSON:
        return {"text": self.text}

    @staticmethod
    def from_json_to_store_item(json_data: JSON) -> Note:
        return Note(json_data["text"])


@pytest.fixture
def on_a_host_with_a_managed_identity(cloud: CloudProcess, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment App Service or Container Apps gives a host with a user-assigned managed identity (the local
    cloud's identity endpoint), with `AZURE_CLIENT_ID` naming the identity as azure-identity reads it."""
    for key in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        monkeypatch.setenv(key, cloud.settings[key])
    monkeypatch.setenv("AZURE_CLIENT_ID", cloud.settings["LOCALCLOUD_MANAGED_IDENTITY_CLIENT_ID"])
    return {"EXTRA_CA_FILE": cloud.settings["EXTRA_CA_FILE"]}


def _through_entra(azurite: AzuriteProcess, host: dict[str, str], container: str) -> ConcurrentStorage:
    return build_storage({"STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": azurite.account_url,
                          "AZURE_STORAGE_CONTAINER": container, **host})


@pytest.fixture(params=["blob", "blob-through-entra", "memory"])
async def clients(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConcurrentStorage, ConcurrentStorage]]:
    """Two clients of one store: two connections to one blob container (with the account key, or with the host's
    managed identity and no key), or one shared in-memory store."""
    if request.param == "memory":
        shared = MemoryStateStorage()
        yield shared, shared
        return
    container = f"state-{uuid.uuid4().hex}"
    if request.param == "blob-through-entra":
        azurite: AzuriteProcess = request.getfixturevalue("azurite_with_entra")
        host = request.getfixturevalue("on_a_host_with_a_managed_identity")
        first, second = (_through_entra(azurite, host, container) for _ in range(2))
    else:
        azurite = request.getfixturevalue("azurite")
        first, second = (BlobStateStorage(azurite.connection_string, container) for _ in range(2))
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _read_note(storage: ConcurrentStorage, key: str) -> Note:
    return (await storage.read([key], target_cls=Note))[key]


async def test_a_stale_write_is_rejected_and_the_other_writers_change_is_kept(clients: Any) -> None:
    first, second = clients
    await first.write({"note": Note("v1")})
    mine, theirs = await _read_note(first, "note"), await _read_note(second, "note")

    theirs.text = "theirs"
    await second.write({"note": theirs})
    mine.text = "mine"
    with pytest.raises(StorageConflict):
        await first.write({"note": mine})

    assert (await _read_note(first, "note")).text == "theirs"


async def test_a_writer_that_re_reads_after_a_conflict_writes_on_top_of_the_other_change(clients: Any) -> None:
    first, second = clients
    await first.write({"note": Note("a")})
    stale = await _read_note(first, "note")
    fresh = await _read_note(second, "note")
    fresh.text += "b"
    await second.write({"note": fresh})

    stale.text += "c"
    with pytest.raises(StorageConflict):
        await first.write({"note": stale})
    again = await _read_note(first, "note")
    again.text += "c"
    await first.write({"note": again})

    assert (await _read_note(second, "note")).text == "abc"


async def test_a_new_item_does_not_overwrite_one_that_appeared_meanwhile(clients: Any) -> None:
    first, second = clients
    await first.write({"note": Note("first")})

    with pytest.raises(StorageConflict):
        await second.write({"note": Note("second")})

    assert (await _read_note(second, "note")).text == "first"


async def test_an_item_deleted_since_it_was_read_is_not_written_back(clients: Any) -> None:
    first, second = clients
    await first.write({"note": Note("kept?")})
    read = await _read_note(first, "note")
    await second.delete(["note"])

    with pytest.raises(StorageConflict):
        await first.write({"note": read})

    assert await second.read(["note"], target_cls=Note) == {}


async def test_of_many_concurrent_writers_of_a_new_item_exactly_one_stores_it(clients: Any) -> None:
    first, second = clients

    async def create(client: ConcurrentStorage, number: int) -> bool:
        try:
            await client.write({"claim": Note(str(number))})
        except StorageConflict:
            return False
        return True

    created = await asyncio.gather(*(create(client, number) for number in range(10) for client in (first, second)))

    assert created.count(True) == 1
    assert (await _read_note(second, "claim")).text == str(created.index(True) // 2)


async def test_a_copy_of_an_sdk_model_writes_as_the_version_it_was_read_from(clients: Any) -> None:
    first, second = clients
    key = "auth:_SignInState:msteams:user"
    await first.write({key: _SignInState(active_handler_id="GRAPH")})
    read = (await first.read([key], target_cls=_SignInState))[key]

    await first.write({key: read.model_copy(update={"active_handler_id": "OTHER"})})
    with pytest.raises(StorageConflict):
        await second.write({key: read})  # the version before the copy's write

    assert (await second.read([key], target_cls=_SignInState))[key].active_handler_id == "OTHER"


async def test_the_sdks_conversation_state_round_trips_and_a_stale_save_is_refused(clients: Any) -> None:
    first, second = clients
    on_a, on_b = _turn(), _turn()
    state_a, state_b = ConversationState(first), ConversationState(second)
    await state_a.load(on_a)
    await state_b.load(on_b)

    state_a.set_value("note", Note("from A"))
    await state_a.save(on_a)
    state_b.set_value("note", Note("from B"))
    with pytest.raises(StorageConflict):
        await state_b.save(on_b)
    await state_b.load(on_b, force=True)

    note = state_b.get_value("note", target_cls=Note)
    assert isinstance(note, Note) and note.text == "from A"


async def test_storage_setting_picks_memory_by_default_and_blob_on_request(azurite: AzuriteProcess) -> None:
    blob = build_storage({"STORAGE": "Blob", "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string})

    assert isinstance(build_storage({}), MemoryStateStorage)
    assert isinstance(blob, BlobStateStorage)
    await blob._close()


async def test_blob_storage_through_entra_uses_the_hosts_managed_identity_and_no_key(
        azurite_with_entra: AzuriteProcess, on_a_host_with_a_managed_identity: dict[str, str]) -> None:
    storage = _through_entra(azurite_with_entra, on_a_host_with_a_managed_identity, f"state-{uuid.uuid4().hex}")
    try:
        await storage.write({"note": Note("no key")})

        assert (await _read_note(storage, "note")).text == "no key"
        assert isinstance(storage, BlobStateStorage) and not storage.config.connection_string
    finally:
        await storage.close()


async def test_blob_storage_through_entra_fails_as_unavailable_without_an_identity_that_may_sign_in(
        azurite_with_entra: AzuriteProcess, on_a_host_with_a_managed_identity: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", str(uuid.uuid4()))  # not the identity attached to the host
    storage = _through_entra(azurite_with_entra, on_a_host_with_a_managed_identity, f"state-{uuid.uuid4().hex}")
    try:
        with pytest.raises(ServiceUnavailable):
            await storage.read(["note"], target_cls=Note)
    finally:
        await storage.close()


@pytest.mark.parametrize(("settings", "named"), [({"STORAGE": "cosmos"}, "memory or blob"),
                                                  ({"STORAGE": "blob"}, "AZURE_STORAGE_ACCOUNT_URL"),
                                                  ({"STORAGE": "blob", "AZURE_STORAGE_CONNECTION_STRING": "x=y",
                                                    "AZURE_STORAGE_ACCOUNT_URL": "https://a.blob.core.windows.net"},
                                                   "exactly one"),
                                                  ({"STORAGE": "blob", "AZURE_STORAGE_CONNECTION_STRING": "x=y",
                                                    "AZURE_STORAGE_CONTAINER": "Agent_State"}, "no container name")])
def test_a_bad_storage_setting_is_named(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        build_storage(settings)


def _turn() -> TurnContext:
    activity = Activity.model_validate({"type": "message", "channelId": "msteams", "conversation": {"id": "talk"},
                                        "from": {"id": "user"}})
    return TurnContext(object(), activity)  # ConversationState reads only the activity; no adapter is used
