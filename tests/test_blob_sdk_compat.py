"""`BlobStateStorage` keeps the blobs the SDK's own `BlobStorage` keeps: the same names and bytes. So state written
before the agent left the SDK's class (or by an SDK agent sharing the container) is read, and the SDK reads ours."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from azure.storage.blob.aio import ContainerClient
from microsoft_agents.hosting.core.app.oauth._sign_in_state import _SignInState
from microsoft_agents.storage.blob import BlobStorage, BlobStorageConfig

from localcloud.launcher import AzuriteProcess
from state import StorageConflict
from state.blob import BlobStateStorage

KEYS = ["auth/tokenExchange/msteams/29:1a b", "msteams/conversations/a:1x#?%ü/users/29:1a"]
"""Keys as the SDK's sign-in and `TurnState` make them, with slashes and characters a URL has to escape."""


def _state(handler: str) -> _SignInState:
    return _SignInState(active_handler_id=handler, continuation_activity=None)


@pytest.fixture
async def both(azurite: AzuriteProcess) -> AsyncIterator[tuple[BlobStorage, BlobStateStorage, ContainerClient]]:
    """The SDK's storage and ours on one fresh container (whichever comes first creates it), and a plain client."""
    container = f"compat-{uuid.uuid4().hex}"
    sdk = BlobStorage(BlobStorageConfig(container_name=container, connection_string=azurite.connection_string))
    ours = BlobStateStorage(azurite.connection_string, container)
    blobs = ContainerClient.from_connection_string(azurite.connection_string, container)
    try:
        yield sdk, ours, blobs
    finally:
        await sdk._close()
        await ours.close()
        await blobs.close()


async def _content(blobs: ContainerClient) -> dict[str, bytes]:
    return {blob.name: await (await blobs.download_blob(blob.name)).readall() async for blob in blobs.list_blobs()}


async def test_state_the_sdks_blob_storage_wrote_is_read_and_updated_as_its_version(both: tuple) -> None:
    sdk, ours, _ = both
    await sdk.write({key: _state(key) for key in KEYS})

    read = await ours.read([*KEYS, "absent"], target_cls=_SignInState)

    assert {key: item.active_handler_id for key, item in read.items()} == {key: key for key in KEYS}
    await ours.write({KEYS[0]: read[KEYS[0]].model_copy(update={"active_handler_id": "OURS"})})
    with pytest.raises(StorageConflict):
        await ours.write({KEYS[0]: read[KEYS[0]]})
    assert (await sdk.read([KEYS[0]], target_cls=_SignInState))[KEYS[0]].active_handler_id == "OURS"


async def test_the_sdks_blob_storage_reads_ours_and_both_write_the_same_blobs(both: tuple) -> None:
    sdk, ours, blobs = both
    await ours.write({key: _state(key) for key in KEYS})
    ours_wrote = await _content(blobs)

    read = await sdk.read(KEYS, target_cls=_SignInState)
    await sdk.delete(KEYS)
    await sdk.write({key: _state(key) for key in KEYS})

    assert {key: item.active_handler_id for key, item in read.items()} == {key: key for key in KEYS}
    assert sorted(ours_wrote) == sorted(KEYS)
    assert await _content(blobs) == ours_wrote


async def test_a_delete_by_either_is_seen_by_the_other(both: tuple) -> None:
    sdk, ours, _ = both
    await sdk.write({KEYS[0]: _state("sdk")})
    await ours.write({KEYS[1]: _state("ours")})

    await ours.delete([KEYS[0], "never-written"])
    await sdk.delete([KEYS[1]])

    assert await ours.read(KEYS, target_cls=_SignInState) == {}
    assert await sdk.read(KEYS, target_cls=_SignInState) == {}
