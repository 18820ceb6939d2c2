"""State on Azure Blob Storage with ETag concurrency, shared by every instance of the agent.

The SDK's `BlobStorage` supplies the client, the container set-up, the bulk operations and delete; this replaces its
last-writer-wins read and write with the conditional ones described in `state`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar, cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from microsoft_agents.hosting.core import StoreItem
from microsoft_agents.storage.blob import BlobStorage, BlobStorageConfig

from state import ConcurrentStorage, StorageConflict, etag_of, remember_etag

StoreItemT = TypeVar("StoreItemT", bound=StoreItem)

AZURE_REQUEST_LOG = "azure.core.pipeline.policies.http_logging_policy"


class BlobStateStorage(BlobStorage, ConcurrentStorage):
    """One blob per key (JSON); the blob's ETag is the item's version."""

    def __init__(self, connection_string: str, container: str) -> None:
        super().__init__(BlobStorageConfig(container_name=container, connection_string=connection_string))
        logging.getLogger(AZURE_REQUEST_LOG).setLevel(logging.WARNING)  # one INFO record per blob call drowns ours

    async def close(self) -> None:
        await self._close()

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
