"""`/files`: the user's most recently modified documents, or a search, 10 at a time, from the Microsoft Search API.

`POST /search/query` over `driveItem` is the documented way to list documents newest first (search-concept-sort:
`sortProperties` on driveItem), and searches everything the user can open in OneDrive and SharePoint. The other
candidates are not: `root/search(q='')` is not documented to list everything and OneDrive for Business sorts its
results only by name; `/me/drive/recent` and `/me/insights/used` stop returning data in late 2026. Its permission is
Files.Read.All (search-api-overview: Files.Read does not search), which a user can consent to alone.

What "recent" means: the documents the user created or last changed, anywhere in OneDrive and SharePoint, newest
first. driveItem search covers everything the user can open (search-api-overview), so `isDocument=true` alone lists
whatever anyone last changed on any site the user can read; the KQL property restrictions `author:` and `ModifiedBy:`
(keyword-query-language-kql-syntax-reference; both default managed properties of SharePoint search) keep the user's
own, by their display name. A search (`/files budget`) still covers everything the user can open. SharePoint pages and
news are `.aspx` files in a site's Pages library and match `isDocument=true`; `NOT filetype:aspx` leaves them out.

Paging is `from`/`size` (search-api-overview); the next page's `from` is this one's plus the size asked, and travels
in the More button's data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from yarl import URL

from graph.client import WHO, GraphClient, GraphSession, user_key
from graph.errors import GraphError
from graph.models import DriveItem, FileKind, FilesPage, SignedInUser

PERMISSION = "Files.Read.All"
PAGE_SIZE = 10
MAX_FROM = 5_000
"""No person pages this far; a More button asking for more was not made by us."""
DOCUMENTS = "isDocument=true AND NOT filetype:aspx"
"""KQL for "documents only": no folders or libraries (search-concept-files, example 5), and no site pages or news
(`filetype:`, keyword-query-language-kql-syntax-reference)."""
PROFILE_PERMISSION = "User.Read"
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
    """The documents the user created or last changed, newest first (see the module docstring)."""
    session = graph.session(token)
    me = await _signed_in_user(graph, session, token)
    if me is None:
        raise GraphError("Microsoft 365 did not say who you are.")
    name = me.display_name.replace('"', "")
    mine = f'(author:"{name}" OR ModifiedBy:"{name}") AND {DOCUMENTS}'
    return files_page(await _query(session, mine, start, _NEWEST_FIRST), me, None, start)


async def search_files(graph: GraphClient, token: str, query: str, start: int = 0) -> FilesPage:
    """Documents matching every word typed, most relevant first, among everything the user can open. Each word is
    quoted, so what a person types is searched for as words, never read as KQL operators or property restrictions.
    Who the user is (to tell their own OneDrive from a colleague's) is asked beside the search, not before it."""
    words = [word.replace('"', "") for word in query.split()]
    terms = " ".join(f'"{word}"' for word in words if word)
    if not terms:
        return await recent_files(graph, token, start)
    session = graph.session(token)
    me, body = await asyncio.gather(_signed_in_user(graph, session, token, required=False),
                                    _query(session, f"{terms} AND {DOCUMENTS}", start, None))
    return files_page(body, me, " ".join(query.split()), start)


def page_start(data: Mapping[str, Any]) -> int:
    """The offset a More button's data asks for (`FilesPage.more()`); 0, the first page, for anything else."""
    start = data.get("from")
    return start if isinstance(start, int) and not isinstance(start, bool) and 0 <= start <= MAX_FROM else 0


async def _signed_in_user(graph: GraphClient, session: GraphSession, token: str,
                          required: bool = True) -> SignedInUser | None:
    """The user's display name and UPN: remembered per user from any earlier `/me`, `/calendar` or `/files`
    (`GraphClient.known_users`), else `GET /me`. None when Graph would not say and it is not `required` (a search is
    then shown without telling whose OneDrive is whose)."""
    known = graph.known_users.get(user_key(token))
    if known is not None:
        return known
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=list(WHO.split(",")))
    request = session.sdk.me.to_get_request_information(RequestConfiguration(query_parameters=query))
    try:
        body = await session.send_json(request, PROFILE_PERMISSION)
    except GraphError:
        if required:
            raise
        return None
    return graph.remember_user(token, body)


async def _query(session: GraphSession, kql: str, start: int, sort: list[dict[str, Any]] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"entityTypes": ["driveItem"], "query": {"queryString": kql}, "from": start,
                               "size": PAGE_SIZE}
    if sort:
        request["sortProperties"] = sort
    return await session.post_json("/search/query", {"requests": [request]}, PERMISSION)


def files_page(body: dict[str, Any], me: SignedInUser | None, query: str | None, start: int) -> FilesPage:
    """The page a `/search/query` answer holds, asked from `start`."""
    container = _first(_first(body.get("value")).get("hitsContainers"))
    hits = [hit for hit in container.get("hits") or [] if isinstance(hit, dict)]
    items = tuple(_item(hit["resource"], me) for hit in hits if isinstance(hit.get("resource"), dict))
    more = container.get("moreResultsAvailable") is True and hits
    # search-api-overview pages by `from` and `size`: the next page starts a page size on, whatever came back.
    return FilesPage(items=items, query=query, next_from=start + PAGE_SIZE if more else None)


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


def folder_of(web_url: str, name: str, me: SignedInUser | None = None) -> str | None:
    """Where an item is, from its `webUrl` (search hits carry no `parentReference.path`), decoded for reading. In the
    user's own OneDrive the folder from its root: `/personal/{me}/Documents/Projects/Delta%20Study/x.docx` →
    `/Projects/Delta Study` (`/` for the root). In a colleague's: `megan's OneDrive: /Shared`, named by their OneDrive
    address (`personal/` and the UPN with `@` and `.` as `_`; the part before the tenant's domain), or `someone's
    OneDrive` when `me` is not known. On a site: `/sites/{site}/{library}/Q1/x.docx` → `{site}/{library}/Q1`. None when
    the link does not end in the item's name (Office links such as `Doc.aspx?sourcedoc=…` say nothing of folders)."""
    path = _path_segments(web_url, name)
    if path is None or len(path) < 4:
        return None
    site_kind, folders = path[0].lower(), path[1:-1]
    if site_kind == "personal":
        where = "/" + "/".join(folders[2:])
        owner = folders[0].lower()
        if me is not None and owner == me.personal_segment.lower():
            return where
        suffix = me.domain_segment.lower() if me is not None else None
        alias = owner.removesuffix(suffix) if suffix and owner.endswith(suffix) and owner != suffix else None
        return f"{alias or 'someone'}'s OneDrive: {where}"
    if site_kind in ("sites", "teams"):
        return "/".join(folders)
    return None


def open_url(web_url: str, name: str) -> str:
    """A link that opens the item whatever its name holds: each path segment percent-encoded once. Search hits give
    `webUrl` with raw characters (search-concept-sort's examples), and a SharePoint name may hold `#`, `%`, `&`, `+`,
    `'` or non-ASCII letters, so the link is not parsed as a URL (`#` would start a fragment). A link that is not the
    item's own address (an Office `Doc.aspx?sourcedoc=…` link) is encoded as a URL."""
    split = urlsplit(web_url)
    segments = _path_segments(web_url, name)
    if segments is None:
        return str(URL(web_url))
    return f"{split.scheme}://{split.netloc}/" + "/".join(quote(segment, safe="") for segment in segments)


_URL_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?[]@!$&'()*+,;=%")
"""What a percent-encoded URL is made of (RFC 3986), less `#`: a name's `#` is never a fragment in an item's link."""


def _path_segments(web_url: str, name: str) -> list[str] | None:
    """The decoded path segments of an item's address, its name last; None when the link does not end in it. A link
    with a character no encoded URL holds (a space, `#`, a non-ASCII letter) is read raw, as search hits send it;
    any other is decoded once, as the drive API sends it (a raw name made only of URL characters reads the same
    either way, unless it holds a `%` and two hex digits)."""
    scheme, _, rest = web_url.partition("://")
    host, slash, path = rest.partition("/")
    if not scheme or not host or not slash:
        return None
    if all(character in _URL_CHARACTERS for character in path):
        if "?" in path:
            return None
        segments = [unquote(segment) for segment in path.split("/")]
    else:
        segments = path.split("/")
    if segments[-1] != name:
        return None
    return [segment for segment in segments[:-1] if segment] + [name]


def _item(item: dict[str, Any], me: SignedInUser | None) -> DriveItem:
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
        web_url=open_url(web_url, name) if web_url else None,
        folder_path=folder_of(web_url, name, me) if web_url else None,
    )
