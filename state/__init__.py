"""The agent's state storage: in memory for the demo, or Azure Blob shared by several instances.

Both speak the SDK's `Storage` interface, so the sign-in (`auth/sign_in.py`) and the SDK's `TurnState` use them, and
both keep the same optimistic-concurrency contract, which the SDK's own `MemoryStorage` and `BlobStorage` do not:
- every item read carries the ETag of the version it came from (it survives the SDK's `model_copy` of its states);
- writing an item read before succeeds only if the stored version is still that one (If-Match), writing a new
  item only if the key is still absent (If-None-Match: *); otherwise `StorageConflict` is raised, nothing is
  overwritten, and the writer re-reads and decides again. So a new item claims its key exactly once across every
  instance that shares the storage.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeVar, cast

from microsoft_agents.hosting.core import Storage, StoreItem
from pydantic import BaseModel

StoreItemT = TypeVar("StoreItemT", bound=StoreItem)

_ETAG = "_storage_etag"
DEFAULT_CONTAINER = "agent-state"
CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
"""Azure Blob Storage's rule for a container name, checked before any request so a bad one is named at start-up."""
CONTAINER_NAME_RULE = "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"


class StorageConflict(Exception):
    """A write lost the race: the key changed (or appeared, or vanished) since the writer read it."""

    def __init__(self, key: str) -> None:
        super().__init__(f"State {key!r} was changed by another writer since it was read; "
                         "re-read it and apply the change again.")
        self.key = key


def etag_of(item: StoreItem) -> str | None:
    """The ETag of the stored version `item` was read from (or last written as); None for a new item."""
    if isinstance(item, BaseModel):
        return (item.__pydantic_private__ or {}).get(_ETAG)
    return getattr(item, _ETAG, None)


def remember_etag(item: StoreItem, etag: str) -> None:
    """Tag `item` with its version. Pydantic models keep it as a private attribute, which `model_copy` carries."""
    if isinstance(item, BaseModel):
        object.__setattr__(item, "__pydantic_private__", {**(item.__pydantic_private__ or {}), _ETAG: etag})
    else:
        object.__setattr__(item, _ETAG, etag)


class ConcurrentStorage(Storage):
    """A `Storage` whose writes are conditional on the version read (see the module docstring)."""

    async def close(self) -> None:
        """Release connections; the app calls it on shutdown."""

    async def ready(self) -> bool:
        """Whether the storage works now, for readiness; cheap enough to ask on every readiness check."""
        return True


class MemoryStateStorage(ConcurrentStorage):
    """The concurrency contract in one process: the demo's storage, and the reference the blob storage matches."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, MutableMapping[str, Any]]] = {}
        self._versions = itertools.count(1)
        self._lock = asyncio.Lock()

    async def read(self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: object) -> dict[str, StoreItemT]:
        if not keys:
            raise ValueError("Storage.read(): keys are required.")
        async with self._lock:
            found = {key: self._items[key] for key in keys if key in self._items}
        items: dict[str, StoreItemT] = {}
        for key, (etag, data) in found.items():
            item = cast(StoreItemT, target_cls.from_json_to_store_item(copy.deepcopy(data)))  # the reader's copy
            remember_etag(item, etag)
            items[key] = item
        return items

    async def write(self, changes: dict[str, StoreItem]) -> None:
        if not changes:
            raise ValueError("Storage.write(): changes are required.")
        async with self._lock:
            for key, item in changes.items():
                stored = self._items.get(key)
                if (stored[0] if stored else None) != etag_of(item):
                    raise StorageConflict(key)
                self._put(key, item)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("Storage.delete(): keys are required.")
        async with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def _put(self, key: str, item: StoreItem) -> None:
        etag = f'"{next(self._versions)}"'
        self._items[key] = (etag, copy.deepcopy(item.store_item_to_json()))
        remember_etag(item, etag)


ACCOUNT_URL = "AZURE_STORAGE_ACCOUNT_URL"
CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"


def build_storage(settings: Mapping[str, str]) -> ConcurrentStorage:
    """`STORAGE=memory` (default) or `blob`, in `AZURE_STORAGE_CONTAINER`, reached either through Entra ID at
    `AZURE_STORAGE_ACCOUNT_URL` (no key: the host's managed identity, or the developer's sign-in) or with
    `AZURE_STORAGE_CONNECTION_STRING` (an account key or SAS, for Azurite or where shared keys are allowed)."""
    kind = (settings.get("STORAGE") or "memory").strip().lower()
    if kind == "memory":
        return MemoryStateStorage()
    if kind == "blob":
        account_url = settings.get(ACCOUNT_URL, "").strip()
        connection_string = settings.get(CONNECTION_STRING, "").strip()
        if bool(account_url) == bool(connection_string):
            raise ValueError(f"STORAGE=blob needs exactly one of {ACCOUNT_URL} (through Entra ID, no key) and "
                             f"{CONNECTION_STRING}.")
        container = settings.get("AZURE_STORAGE_CONTAINER", "").strip() or DEFAULT_CONTAINER
        if not CONTAINER_NAME.match(container):
            raise ValueError(f"AZURE_STORAGE_CONTAINER {container!r} is no container name: {CONTAINER_NAME_RULE}.")
        from state.blob import BlobStateStorage  # only a blob deployment pays for the Azure SDK's imports

        if connection_string:
            return BlobStateStorage(connection_string, container)
        return BlobStateStorage.through_entra(account_url, container, settings.get("EXTRA_CA_FILE", "").strip())
    raise ValueError(f"STORAGE must be memory or blob, not {kind!r}.")
