"""`/files`: the user's most recently modified documents, or a search, 10 at a time, from the Microsoft Search API.

`POST /search/query` over `driveItem` is the documented way to list documents newest first (search-concept-sort:
`sortProperties` on driveItem), and searches everything the user can open in OneDrive and SharePoint. The other
candidates are not: `root/search(q='')` is not documented to list everything and OneDrive for Business sorts its
results only by name; `/me/drive/recent` and `/me/insights/used` stop returning data in late 2026. Its permission is
Files.Read.All (search-api-overview: Files.Read does not search), which a user can consent to alone.

Paging is `from`/`size` (search-api-overview); the offset of the next page travels in the More button's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from yarl import URL

from graph.client import GraphClient
from graph.models import DriveItem, FileKind, FilesPage

PERMISSION = "Files.Read.All"
PAGE_SIZE = 10
MAX_FROM = 5_000
"""No person pages this far; a More button asking for more was not made by us."""
DOCUMENTS = "isDocument=true"
"""KQL for "documents only, no folders or libraries" (search-concept-files, example 5)."""
_NEWEST_FIRST = [{"name": "lastModifiedDateTime", "isDescending": True}]
_KIND_BY_EXTENSION: dict[str, FileKind] = {
    "doc": "word", "docx": "word", "odt": "word", "rtf": "word",
    "xls": "excel", "xlsx": "excel", "csv": "excel", "ods": "excel",
    "ppt": "powerpoint", "pptx": "powerpoint", "odp": "powerpoint",
    "pdf": "pdf",
    "png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "bmp": "image", "svg": "image", "webp": "image",
    "txt": "text", "md": "text", "log": "text", "json": "text",
}


async def recent_files(graph: GraphClient, token: str, start: int = 0) -> FilesPage:
    """Documents newest first."""
    return await _search(graph, token, DOCUMENTS, None, start, _NEWEST_FIRST)


async def search_files(graph: GraphClient, token: str, query: str, start: int = 0) -> FilesPage:
    """Documents matching every word typed, most relevant first. Each word is quoted, so what a person types is
    searched for as words, never read as KQL operators or property restrictions."""
    words = [word.replace('"', "") for word in query.split()]
    terms = " ".join(f'"{word}"' for word in words if word)
    if not terms:
        return await recent_files(graph, token, start)
    return await _search(graph, token, f"{terms} AND {DOCUMENTS}", " ".join(query.split()), start, None)


def page_start(data: Mapping[str, Any]) -> int:
    """The offset a More button's data asks for (`FilesPage.more()`); 0, the first page, for anything else."""
    start = data.get("from")
    return start if isinstance(start, int) and not isinstance(start, bool) and 0 <= start <= MAX_FROM else 0


async def _search(graph: GraphClient, token: str, kql: str, query: str | None, start: int,
                  sort: list[dict[str, Any]] | None) -> FilesPage:
    request: dict[str, Any] = {"entityTypes": ["driveItem"], "query": {"queryString": kql}, "from": start,
                               "size": PAGE_SIZE}
    if sort:
        request["sortProperties"] = sort
    body = await graph.session(token).post_json("/search/query", {"requests": [request]}, PERMISSION)
    container = _first(_first(body.get("value")).get("hitsContainers"))
    hits = [hit for hit in container.get("hits") or [] if isinstance(hit, dict)]
    items = tuple(_item(hit["resource"]) for hit in hits if isinstance(hit.get("resource"), dict))
    more = container.get("moreResultsAvailable") is True and hits
    return FilesPage(items=items, query=query, next_from=start + len(hits) if more else None)


def _first(value: Any) -> dict[str, Any]:
    """The first object of a JSON list (the one searchResponse, the one hitsContainer), or `{}`."""
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def kind_of(item: dict[str, Any]) -> FileKind:
    """From the `folder`/`file` facets when Graph sends them (search hits carry none), else the extension."""
    if "folder" in item:
        return "folder"
    mime = str((item.get("file") or {}).get("mimeType") or "")
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("image/"):
        return "image"
    extension = str(item.get("name") or "").rpartition(".")[2].lower()
    return _KIND_BY_EXTENSION.get(extension, "text" if mime.startswith("text/") else "other")


def folder_of(web_url: str, name: str) -> str | None:
    """Where an item is, from its `webUrl` (search hits carry no `parentReference.path`), decoded for reading:
    `/personal/{user}/{library}/Projects/Delta%20Study/x.docx` → `/Projects/Delta Study` (`/` for the library's
    root); `/sites/{site}/{library}/Q1/x.docx` → `{site}/{library}/Q1`. None when the link does not end in the item's
    name (Office links such as `Doc.aspx?sourcedoc=…` say nothing of folders)."""
    parts = [part for part in unquote(urlsplit(web_url).path).split("/") if part]
    if len(parts) < 4 or parts[-1] != name:
        return None
    site_kind, folders = parts[0].lower(), parts[1:-1]
    if site_kind == "personal":
        return "/" + "/".join(folders[2:])
    if site_kind in ("sites", "teams"):
        return "/".join(folders)
    return None


def _item(item: dict[str, Any]) -> DriveItem:
    name = str(item.get("name") or "")
    modified = item.get("lastModifiedDateTime") or (item.get("fileSystemInfo") or {}).get("lastModifiedDateTime")
    web_url = item.get("webUrl") if isinstance(item.get("webUrl"), str) else None
    return DriveItem(
        id=str(item.get("id") or ""),
        name=name,
        kind=kind_of(item),
        size=item.get("size") if isinstance(item.get("size"), int) else None,
        modified_at=datetime.fromisoformat(modified) if isinstance(modified, str) else None,
        modified_by=((item.get("lastModifiedBy") or {}).get("user") or {}).get("displayName") or None,
        web_url=str(URL(web_url)) if web_url else None,  # search hits' webUrl can hold raw spaces: encoded once
        folder_path=folder_of(web_url, name) if web_url else None,
    )
