"""`/files`: the most recently modified items across the user's OneDrive, or a search, 10 at a time.

Recent items come from `root/search(q='')` newest first, not `/me/drive/recent`, which Microsoft is retiring.
Neither search form has a request builder in msgraph-sdk, so the URL goes through `with_url`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from graph.client import GraphClient
from graph.errors import NotAGraphLink
from graph.models import DriveItem, FileKind, FilesPage

PERMISSION = "Files.Read"
PAGE_SIZE = 10
_SELECT = "id,name,size,file,lastModifiedDateTime,lastModifiedBy,webUrl,parentReference"
_KIND_BY_EXTENSION: dict[str, FileKind] = {
    "doc": "word", "docx": "word", "odt": "word", "rtf": "word",
    "xls": "excel", "xlsx": "excel", "csv": "excel", "ods": "excel",
    "ppt": "powerpoint", "pptx": "powerpoint", "odp": "powerpoint",
    "pdf": "pdf",
    "png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "bmp": "image", "svg": "image", "webp": "image",
    "txt": "text", "md": "text", "log": "text", "json": "text",
}


async def recent_files(graph: GraphClient, token: str, next_link: str | None = None) -> FilesPage:
    return await _search(graph, token, None, next_link)


async def search_files(graph: GraphClient, token: str, query: str, next_link: str | None = None) -> FilesPage:
    return await _search(graph, token, query.strip(), next_link)


async def _search(graph: GraphClient, token: str, query: str | None, next_link: str | None) -> FilesPage:
    session = graph.session(token)
    if next_link and not session.is_graph_url(next_link):
        raise NotAGraphLink()
    term = quote((query or "").replace("'", "''"), safe="")
    order = "" if query else "&$orderby=lastModifiedDateTime desc"
    url = next_link or (f"{session.adapter.base_url}/me/drive/root/search(q='{term}')"
                        f"?$top={PAGE_SIZE}&$select={_SELECT}{order}")
    body = await session.send_json(session.sdk.me.drive.with_url(url).to_get_request_information(), PERMISSION)
    items = tuple(_item(item) for item in body.get("value") or [] if isinstance(item, dict))
    return FilesPage(items=items, query=query or None, next_link=body.get("@odata.nextLink") or None)


def kind_of(item: dict[str, Any]) -> FileKind:
    """From the `file` facet's mimeType first, the extension last. Only `file` is selected: an item without it is a
    folder (or a OneNote package, opened the same way)."""
    if "file" not in item:
        return "folder"
    mime = str((item.get("file") or {}).get("mimeType") or "")
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("image/"):
        return "image"
    extension = str(item.get("name") or "").rpartition(".")[2].lower()
    return _KIND_BY_EXTENSION.get(extension, "text" if mime.startswith("text/") else "other")


def _folder_path(item: dict[str, Any]) -> str | None:
    """`/drive/root:/Documents/Budget` → `/Documents/Budget`; the root itself → `/`."""
    path = (item.get("parentReference") or {}).get("path")
    if not isinstance(path, str) or ":" not in path:
        return None
    return path.partition(":")[2] or "/"


def _item(item: dict[str, Any]) -> DriveItem:
    modified = item.get("lastModifiedDateTime")
    return DriveItem(
        id=str(item.get("id") or ""),
        name=str(item.get("name") or ""),
        kind=kind_of(item),
        size=item.get("size") if isinstance(item.get("size"), int) else None,
        modified_at=datetime.fromisoformat(modified) if isinstance(modified, str) else None,
        modified_by=((item.get("lastModifiedBy") or {}).get("user") or {}).get("displayName") or None,
        web_url=item.get("webUrl") or None,
        folder_path=_folder_path(item),
    )
