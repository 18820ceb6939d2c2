"""State on Azure Blob Storage with ETag concurrency, shared by every instance of the agent.

The SDK's `BlobStorage` supplies the client, the container set-up, the bulk operations and delete; this replaces its
last-writer-wins read and write with the conditional ones described in `state`.

Every call is bounded by the turn's deadline and fails as `ServiceUnavailable` / `ServiceBusy` (the user is told);
the Azure SDK's own storage retries (3, from 15 s apart, far past any turn's deadline while storage is down) are cut
to one at once. The outcome of the calls, and a probe at most every `PROBE_INTERVAL` s, tell readiness whether
storage works.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
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
from azure.storage.blob.aio import BlobServiceClient, LinearRetry
from microsoft_agents.hosting.core import StoreItem
from microsoft_agents.storage.blob import BlobStorage, BlobStorageConfig

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


class BlobStateStorage(BlobStorage, ConcurrentStorage):
    """One blob per key (JSON); the blob's ETag is the item's version."""

    def __init__(self, connection_string: str, container: str, *, account_url: str = "",
                 credential: AsyncTokenCredential | None = None, ca_file: str = "") -> None:
        self._ca_file = ca_file
        super().__init__(BlobStorageConfig(container_name=container, connection_string=connection_string,
                                           url=account_url, credential=credential))
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

    def _create_client(self) -> BlobServiceClient:
        retry = LinearRetry(backoff=0, random_jitter_range=0, retry_total=1)
        if self.config.url:
            # azure-core takes one CA file as the whole trust (connection_verify), so EXTRA_CA_FILE replaces the
            # system's store for storage: enough for a local cloud or a TLS-inspecting proxy, which sign every host.
            return BlobServiceClient(self.config.url, credential=self.config.credential, retry_policy=retry,
                                     connection_verify=self._ca_file or True)
        return BlobServiceClient.from_connection_string(self.config.connection_string, retry_policy=retry)

    async def close(self) -> None:
        await self._close()
        if self.config.credential is not None:
            await self.config.credential.close()

    async def read(self, keys: list[str], *, target_cls: type[StoreItemT], **kwargs: Any) -> dict[str, StoreItemT]:
        return await self._bounded(super().read(keys, target_cls=target_cls, **kwargs))

    async def write(self, changes: dict[str, StoreItem]) -> None:
        await self._bounded(super().write(changes))

    async def delete(self, keys: list[str]) -> None:
        await self._bounded(super().delete(keys))

    async def _bounded(self, call: Awaitable[T]) -> T:
        """`call` within the turn's deadline; a storage failure becomes the fault the user is told about."""
        try:
            async with asyncio.timeout(deadline.work_left(CALL_TIMEOUT)):
                result = await call
        except StorageConflict:
            self._observed(True)
            raise
        except (TimeoutError, AzureError) as error:
            fault = _fault(error)
            self._observed(isinstance(fault, ServiceBusy))  # throttled is still up
            raise fault from error
        self._observed(True)
        return result

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
                        await self._container_client.get_container_properties()
                    self._observed(True)
                except ResourceNotFoundError:  # reachable, but the container is gone: create it again on next use
                    self._initialized = False
                    self._observed(True)
                except (TimeoutError, AzureError):
                    self._observed(False)
        return bool(self._healthy)

    async def _read_item(self, key: str, *, target_cls: type[StoreItemT], **kwargs: Any
                         ) -> tuple[str | None, StoreItemT | None]:
        try:
            download = await self._container_client.download_blob(blob=key, timeout=5)
        except ResourceNotFoundError:
            return None, None
        item = cast(StoreItemT, target_cls.from_json_to_store_item(json.loads(await download.readall())))
        remember_etag(item, download.properties.etag)
        return key, item

    async def _write_item(self, key: str, item: StoreItem) -> None:
        etag = etag_of(item)
        condition = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
        try:
            await self._upload(key, item, overwrite=bool(etag), **condition)  # overwrite=False: If-None-Match: *
        except (ResourceExistsError, ResourceModifiedError) as error:  # 409 BlobAlreadyExists, 412 ConditionNotMet
            raise StorageConflict(key) from error

    async def _upload(self, key: str, item: StoreItem, **conditions: Any) -> None:
        data = json.dumps(item.store_item_to_json()).encode("utf-8")
        uploaded = await self._container_client.get_blob_client(key).upload_blob(data, length=len(data), **conditions)
        remember_etag(item, uploaded["etag"])


def _fault(error: Exception) -> ServiceFault:
    if isinstance(error, HttpResponseError) and error.status_code and is_fault_status(error.status_code):
        return fault_for(STORAGE, error.status_code, getattr(error.response, "headers", None))
    return ServiceUnavailable(STORAGE)
