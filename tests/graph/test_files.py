"""`recent_files` and `search_files`: the user's OneDrive items, newest first or by search, 10 a page."""

from __future__ import annotations

import pytest

from graph.client import GraphClient
from graph.errors import MissingPermission
from graph.files import PAGE_SIZE, kind_of, recent_files, search_files
from graph.models import DriveItem
from tests.graph.conftest import TokenFor


async def test_recent_files_are_newest_first_across_folders(graph: GraphClient, token_for: TokenFor) -> None:
    page = await recent_files(graph, token_for("adele"))
    stamps = [item.modified_at for item in page.items if item.modified_at]
    assert len(page.items) == PAGE_SIZE and page.next_link and page.query is None
    assert len(stamps) == PAGE_SIZE and stamps == sorted(stamps, reverse=True)
    assert len({item.folder_path for item in page.items}) >= 2
    assert all(item.web_url and item.modified_by and item.kind for item in page.items)


async def test_recent_files_page_on_without_repeats(graph: GraphClient, token_for: TokenFor) -> None:
    token = token_for("adele")
    first = await recent_files(graph, token)
    second = await recent_files(graph, token, next_link=first.next_link)
    assert second.items and not {item.id for item in first.items} & {item.id for item in second.items}
    assert min(item.modified_at for item in first.items if item.modified_at) >= max(
        item.modified_at for item in second.items if item.modified_at)


async def test_search_finds_the_users_files_in_several_folders(graph: GraphClient, token_for: TokenFor) -> None:
    found: list[DriveItem] = []
    page = await search_files(graph, token_for("megan"), "budget")
    found += page.items
    while page.next_link:
        page = await search_files(graph, token_for("megan"), "budget", next_link=page.next_link)
        found += page.items
    names = [item.name for item in found]
    assert page.query == "budget" and "Pricing model.xlsx" in names
    assert sum("budget" in name.lower() for name in names) >= 4 and len({item.folder_path for item in found}) >= 3
    assert {item.kind for item in found if item.name.endswith(".xlsx")} == {"excel"}


async def test_search_with_a_quote_is_not_a_bad_request(graph: GraphClient, token_for: TokenFor) -> None:
    page = await search_files(graph, token_for("adele"), "o'brien's budget")
    assert page.items == () and page.next_link is None


async def test_files_without_their_scope_name_the_permission(graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(MissingPermission) as raised:
        await recent_files(graph, token_for("adele", scopes=("User.Read",)))
    assert raised.value.permission == "Files.Read"


def test_kind_comes_from_facets_mime_type_and_extension() -> None:
    assert kind_of({"name": "Plans"}) == "folder"
    assert kind_of({"name": "scan", "file": {"mimeType": "application/pdf"}}) == "pdf"
    assert kind_of({"name": "Deck.PPTX", "file": {"mimeType": "application/octet-stream"}}) == "powerpoint"
    assert kind_of({"name": "notes", "file": {"mimeType": "text/plain"}}) == "text"
    assert kind_of({"name": "archive.zip", "file": {"mimeType": "application/zip"}}) == "other"
