"""State on Azure Blob Storage with ETag concurrency, shared by every instance of the agent.

The SDK's public `Storage` interface, spoken straight to azure-storage-blob's async client with the conditional reads
and writes described in `state`. The blobs are the ones the SDK's `BlobStorage` keeps
(`microsoft_agents/storage/blob/blob_storage.py`, 1.9), so either reads what the other wrote: one blob per key, named
by the key as it is (no escaping), holding `json.dumps(item.store_item_to_json())` in UTF-8, in a container created on
first use.

Every call is bounded by the turn's deadline and fails as `ServiceUnavailable` / `ServiceBusy` (the user is told);
the Azure SDK's own storage retries (3, from 15 s apart, far past any turn's deadline while storage is down) are cut
to one at once. The outcome of the calls, and a probe at most every `PROBE_INTERVAL` s, tell readiness whether
storage works.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import ContainerClient, LinearRetry
from microsoft_agents.hosting.core import StoreItem
from microsoft_agents.hosting.core.storage.telemetry import spans

from state import ConcurrentStorage, StorageConflict, etag_of, remember_etag
from turn import deadline
from turn.faults import STORAGE, ServiceBusy, ServiceFault, ServiceUnavailable, fault_for, is_fault_status

T = TypeVar("T")

StoreItemT = TypeVar("StoreItemT", bound=StoreItem)

AZURE_REQUEST_LOG = "azure.core.pipeline.policies.http_logging_policy"
CALL_TIMEOUT = 5.0
"""Seconds for one storage call outside a turn (inside one, the turn's deadline decides)."""
PROBE_INTERVAL = 5.0
"""Readiness asks storage itself at most this often; in between it goes by the last call's outcome."""
PROBE_TIMEOUT = 2.0
SERVER_TIMEOUT = 5
"""Seconds the service may take over one read, as the SDK's `BlobStorage` asks."""


@dataclass(frozen=True)
class BlobConfig:
    """Where the state is and how it is reached, as the SDK's `BlobStorageConfig` says it: a connection string, or an
    account URL with a token credential."""

    container_name: str
    connection_string: str = ""
    url: str = ""
    credential: AsyncTokenCredential | None = None


class BlobStateStorage(ConcurrentStorage):
    """One blob per key (JSON); the blob's ETag is the item's version."""

    def __init__(self, connection_string: str, container: str, *, account_url: str = "",
                 credential: AsyncTokenCredential | None = None, ca_file: str = "") -> None:
        self.config = BlobConfig(container, connection_string, account_url, credential)
        retry = LinearRetry(backoff=0, random_jitter_range=0, retry_total=1)
        if account_url:
            # azure-core takes one CA file as the whole trust (connection_verify), so EXTRA_CA_FILE replaces the
            # system's store for storage: enough for a local cloud or a TLS-inspecting proxy, which sign every host.
            self._container = ContainerClient(account_url, container, credential=credential, retry_policy=retry,
                                              connection_verify=ca_file or True)
        else:
            self._container = ContainerClient.from_connection_string(connection_string, container, retry_policy=retry)
        self._container_exists = False
        logging.getLogger(AZURE_REQUEST_LOG).setLevel(logging.WARNING)  # one INFO record per blob call drowns ours
        self._healthy: bool | None = None
        self._checked_at = float("-inf")
        self._probing = asyncio.Lock()

    @classmethod
    def through_entra(cls, account_url: str, container: str, ca_file: str = "") -> BlobStateStorage:
        """Blob storage with no key: Entra ID tokens from `DefaultAzureCredential`, which is the host's managed
        identity in Azure (a user-assigned one named by `AZURE_CLIENT_ID`) and the developer's Azure CLI or editor
        sign-in on a workstation; the identity needs the *Storage Blob Data Contributor* role on the account
        (https://learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory). `ca_file` is
        trusted for the account's certificate (EXTRA_CA_FILE)."""
        from azure.identity.aio import DefaultAzureCredential

        return cls("", container, account_url=account_url, credential=DefaultAzureCredential(), ca_file=ca_file)

    async def close(self) -> None:
        await self._close()
        if self.config.credential is not None:
            await self.config.credential.close()

    async def _close(self) -> None:
        """The client's connections only: a credential may outlive them."""
        await self._container.close()

    # The empty-argument errors and the spans (with their metrics) are those of the SDK's `AsyncStorageBase`
    # (microsoft_agents/hosting/core/storage/storage.py, 1.9), which its `BlobStorage` answers with.

    async def read(self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any) -> dict[str, StoreItemT]:
        if not keys:
            raise ValueError("Storage.read(): Keys are required when reading.")
        with spans.StorageRead(len(keys)):
            items = await self._on_each(keys, functools.partial(self._read_item, target_cls=target_cls))
        return {key: item for key, item in zip(keys, items, strict=True) if item is not None}

    async def write(self, changes: dict[str, StoreItem]) -> None:
        if not changes:
            raise ValueError("Storage.write(): Changes are required when writing.")
        with spans.StorageWrite(len(changes)):
            await self._on_each(changes, lambda key: self._write_item(key, changes[key]))

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("Storage.delete(): Keys are required when deleting.")
        with spans.StorageDelete(len(keys)):
            await self._on_each(keys, self._delete_item)

    async def _on_each(self, keys: Iterable[str], call: Callable[[str], Awaitable[T]]) -> list[T]:
        """`call` for every key at once, once the container exists, within the turn's deadline; a storage failure
        becomes the fault the user is told about."""
        try:
            async with asyncio.timeout(deadline.work_left(CALL_TIMEOUT)):
                await self._create_container()
                results = await asyncio.gather(*(call(key) for key in keys))
        except StorageConflict:
            self._observed(True)
            raise
        except (TimeoutError, AzureError) as error:
            fault = _fault(error)
            self._observed(isinstance(fault, ServiceBusy))  # throttled is still up
            raise fault from error
        self._observed(True)
        return results

    async def _create_container(self) -> None:
        """Once per process, and again after the probe found the container gone."""
        if not self._container_exists:
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()
            self._container_exists = True

    def _observed(self, healthy: bool) -> None:
        self._healthy, self._checked_at = healthy, time.monotonic()

    async def ready(self) -> bool:
        """Whether storage answered lately: the last call's outcome when recent, else one probe (shared by the
        readiness checks that arrive meanwhile), so a load balancer polling `/readyz` costs at most one blob call per
        `PROBE_INTERVAL`."""
        async with self._probing:
            if time.monotonic() - self._checked_at >= PROBE_INTERVAL:
                try:
                    async with asyncio.timeout(PROBE_TIMEOUT):
                        await self._container.get_container_properties()
                    self._observed(True)
                except ResourceNotFoundError:  # reachable, but the container is gone: create it again on next use
                    self._container_exists = False
                    self._observed(True)
                except (TimeoutError, AzureError):
                    self._observed(False)
        return bool(self._healthy)

    async def _read_item(self, key: str, *, target_cls: type[StoreItemT]) -> StoreItemT | None:
        try:
            download = await self._container.download_blob(key, timeout=SERVER_TIMEOUT)
        except ResourceNotFoundError:
            return None
        item = cast(StoreItemT, target_cls.from_json_to_store_item(json.loads(await download.readall())))
        remember_etag(item, download.properties.etag)
        return item

    async def _write_item(self, key: str, item: StoreItem) -> None:
        etag = etag_of(item)
        condition = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
        data = json.dumps(item.store_item_to_json()).encode("utf-8")
        try:  # overwrite=False: If-None-Match: *
            uploaded = await self._container.get_blob_client(key).upload_blob(data, length=len(data),
                                                                               overwrite=bool(etag), **condition)
        except (ResourceExistsError, ResourceModifiedError) as error:  # 409 BlobAlreadyExists, 412 ConditionNotMet
            raise StorageConflict(key) from error
        remember_etag(item, uploaded["etag"])

    async def _delete_item(self, key: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self._container.delete_blob(key)


def _fault(error: Exception) -> ServiceFault:
    if isinstance(error, HttpResponseError) and error.status_code and is_fault_status(error.status_code):
        return fault_for(STORAGE, error.status_code, getattr(error.response, "headers", None))
    return ServiceUnavailable(STORAGE)
