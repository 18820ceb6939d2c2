"""`recent_files` and `search_files`: documents from the Microsoft Search API, newest first or by relevance, 10 a
page, with folders decoded for reading and links encoded for opening."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from auth.cloud import cloud_from_settings
from graph.client import GraphClient, SharedHttp
from graph.errors import MissingPermission
from graph.files import PAGE_SIZE, files_page, folder_of, kind_of, open_url, page_start, recent_files, search_files
from graph.models import DriveItem, FilesPage, SignedInUser
from localcloud.cloud import Cloud
from localcloud.graph import search_index
from tests.graph.conftest import TokenFor


async def every_page(first: FilesPage, fetch: Any) -> list[DriveItem]:
    found, page = list(first.items), first
    while (more := page.more()) is not None:
        page = await fetch(page_start(more))
        found += page.items
    return found


async def test_recent_files_are_newest_first_across_folders(graph: GraphClient, token_for: TokenFor) -> None:
    page = await recent_files(graph, token_for("adele"))
    stamps = [item.modified_at for item in page.items if item.modified_at]
    assert len(page.items) == PAGE_SIZE and page.next_from == PAGE_SIZE and page.query is None
    assert len(stamps) == PAGE_SIZE and stamps == sorted(stamps, reverse=True)
    assert len({item.folder_path for item in page.items}) >= 2
    assert all(item.web_url and item.modified_by and item.kind != "folder" for item in page.items)


async def test_recent_files_page_on_without_repeats_to_the_last(graph: GraphClient, token_for: TokenFor) -> None:
    token = token_for("adele")
    items = await every_page(await recent_files(graph, token), lambda start: recent_files(graph, token, start))
    stamps = [item.modified_at for item in items if item.modified_at]
    assert len(items) > 2 * PAGE_SIZE and len({item.id for item in items}) == len(items)
    assert stamps == sorted(stamps, reverse=True)


async def test_search_finds_the_users_files_in_several_folders(graph: GraphClient, token_for: TokenFor) -> None:
    token = token_for("megan")
    found = await every_page(await search_files(graph, token, "budget"),
                             lambda start: search_files(graph, token, "budget", start))
    names = [item.name for item in found]
    assert "Pricing model.xlsx" in names
    assert sum("budget" in name.lower() for name in names) >= 4 and len({item.folder_path for item in found}) >= 3
    assert {item.kind for item in found if item.name.endswith(".xlsx")} == {"excel"}


async def test_folders_are_shown_decoded_and_links_stay_encoded(graph: GraphClient, token_for: TokenFor) -> None:
    page = await search_files(graph, token_for("adele"), "Launch plan")
    plan = next(item for item in page.items if item.name == "Launch plan.docx")
    assert plan.folder_path == "/Projects/Contoso Launch"
    assert plan.web_url and " " not in plan.web_url and plan.web_url.endswith("/Contoso%20Launch/Launch%20plan.docx")


@pytest.mark.parametrize("typed", ["o'brien's budget", 'zebra" OR "budget', "zebra OR budget",
                                   "path:secret AND (budget", "isDocument=false"])
async def test_what_a_person_types_is_searched_as_words_never_as_kql(graph: GraphClient, token_for: TokenFor,
                                                                    typed: str) -> None:
    page = await search_files(graph, token_for("adele"), typed)
    assert page.items == () and page.next_from is None and page.query == typed


async def test_files_need_files_read_all_files_read_does_not_search(graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(MissingPermission) as raised:
        await recent_files(graph, token_for("adele", scopes=("User.Read", "Files.Read")))
    assert raised.value.permission == "Files.Read.All"


async def test_a_search_is_one_round_trip_once_the_user_is_known(local: Cloud, token_for: TokenFor) -> None:
    """The first asks who the user is beside the search (two requests at once); later ones only search."""
    settings = cloud_from_settings(local.agent_settings())
    fresh = GraphClient(settings, SharedHttp(settings))
    token = token_for("diego")
    try:
        since = (local.graph_requests.after(0) or [{"seq": 0}])[-1]["seq"]
        await search_files(fresh, token, "budget")
        first = sorted(entry["path"] for entry in local.graph_requests.after(since))
        since = local.graph_requests.after(0)[-1]["seq"]
        await search_files(fresh, token, "launch")
    finally:
        await fresh.aclose()
    assert first == ["/v1.0/me", "/v1.0/search/query"]
    assert [entry["path"] for entry in local.graph_requests.after(since)] == ["/v1.0/search/query"]


def test_kind_comes_from_facets_mime_type_and_extension() -> None:
    assert kind_of({"name": "Plans", "folder": {"childCount": 2}}) == "folder"
    assert kind_of({"name": "scan", "file": {"mimeType": "application/pdf"}}) == "pdf"
    assert kind_of({"name": "Deck.PPTX", "file": {"mimeType": "application/octet-stream"}}) == "powerpoint"
    assert kind_of({"name": "notes", "file": {"mimeType": "text/plain"}}) == "text"
    assert kind_of({"name": "archive.zip", "file": {"mimeType": "application/zip"}}) == "other"
    assert kind_of({"name": "Budget 2026.xlsx"}) == "excel"


MEGAN = SignedInUser("Megan Bowen", "megan@contoso.com")
SITE = "https://contoso.sharepoint.com/sites/M/Shared Documents"


@pytest.mark.parametrize(("url", "name", "folder"), [
    ("https://contoso-my.sharepoint.com/personal/megan_contoso_com/Documents/Projects/Delta%20Study/Plan.docx",
     "Plan.docx", "/Projects/Delta Study"),
    ("https://contoso-my.sharepoint.com/personal/megan_contoso_com/Documents/Projects/Delta Study/Plan.docx",
     "Plan.docx", "/Projects/Delta Study"),
    ("https://contoso-my.sharepoint.com/personal/megan_contoso_com/Documents/Plan.docx", "Plan.docx", "/"),
    ("https://contoso.sharepoint.com/sites/GlobalSales/Shared Documents/Q1 2019/Our Water.docx", "Our Water.docx",
     "GlobalSales/Shared Documents/Q1 2019"),
    ("https://contoso.sharepoint.com/sites/GlobalSales/_layouts/15/Doc.aspx?sourcedoc=%7B1%7D&file=Plan.docx",
     "Plan.docx", None),
])
def test_a_folder_is_read_from_the_link_and_decoded(url: str, name: str, folder: str | None) -> None:
    assert folder_of(url, name, MEGAN) == folder


@pytest.mark.parametrize(("url", "me", "folder"), [
    ("https://contoso-my.sharepoint.com/personal/adele_contoso_com/Documents/Shared/Plan.docx", MEGAN,
     "adele's OneDrive: /Shared"),
    ("https://contoso-my.sharepoint.com/personal/adele_contoso_com/Documents/Plan.docx", MEGAN, "adele's OneDrive: /"),
    ("https://contoso-my.sharepoint.com/personal/adele_fabrikam_com/Documents/Plan.docx", MEGAN,
     "someone's OneDrive: /"),
    ("https://contoso-my.sharepoint.com/personal/megan_contoso_com/Documents/Plan.docx", None, "someone's OneDrive: /"),
])
def test_a_colleagues_onedrive_is_named_as_theirs_never_my_files(url: str, me: SignedInUser | None,
                                                                 folder: str) -> None:
    assert folder_of(url, "Plan.docx", me) == folder


LEGAL_NAMES = [
    ("https://contoso.sharepoint.com/sites/Marketing/Shared Documents/Campaigns #1/Plan #2.docx", "Plan #2.docx"),
    ("https://contoso.sharepoint.com/sites/Marketing/Shared Documents/Budget 100% & more + tax.xlsx",
     "Budget 100% & more + tax.xlsx"),
    (f"{SITE}/O'Brien's notes; v1, ok=yes @team ~(copy) [1] {{x}} ^$!.docx",
     "O'Brien's notes; v1, ok=yes @team ~(copy) [1] {x} ^$!.docx"),
    (f"{SITE}/Ünïcødé – résumé 日本語.pptx", "Ünïcødé – résumé 日本語.pptx"),
    ("https://contoso.sharepoint.com/sites/M/Shared%20Documents/Plan%20%232.docx", "Plan #2.docx"),
]
"""Raw as search hits send them, one encoded as the drive API does; SharePoint allows `# % & + ' , ; = @ ~ ( ) [ ] { }
^ $ !` and non-ASCII letters in names."""


def test_an_open_link_is_built_from_the_path_so_every_legal_name_opens() -> None:
    for raw, name in LEGAL_NAMES:
        link = urlsplit(open_url(raw, name))
        assert not link.fragment and not link.query and unquote(link.path).endswith("/" + name), raw
        assert all(character.isascii() and character not in " #" for character in link.geturl()), raw


@pytest.mark.parametrize(("data", "start"), [({"from": 10}, 10), ({}, 0), ({"from": "10"}, 0), ({"from": -10}, 0),
                                             ({"from": True}, 0), ({"from": 10**9}, 0)])
def test_a_more_button_asks_for_a_page_start_within_reason(data: dict[str, Any], start: int) -> None:
    assert page_start(data) == start


async def test_recent_files_are_the_documents_the_user_created_or_last_changed_anywhere(
        local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    """Not whatever anyone changed on a site the user can read (search-api-overview: search is tenant-wide)."""
    token = token_for("adele")
    adele = local.directory.user_by_name("adele")
    assert adele is not None
    items = await every_page(await recent_files(graph, token), lambda start: recent_files(graph, token, start))
    theirs = {item.id for _, item in search_index(adele) if not item.is_folder and item.extension != "aspx"
              and "Adele Vance" in (item.created_by.display_name, item.modified_by.display_name)}
    assert {item.id for item in items} == theirs and any("Marketing" in (item.folder_path or "") for item in items)


async def test_a_search_still_covers_colleagues_onedrives_and_every_site(graph: GraphClient,
                                                                        token_for: TokenFor) -> None:
    token = token_for("adele")
    found = await every_page(await search_files(graph, token, "budget"),
                             lambda start: search_files(graph, token, "budget", start))
    places = {item.folder_path for item in found}
    assert "/Projects/Contoso Launch" in places and "megan's OneDrive: /Shared" in places
    assert "Marketing/Shared Documents/Campaigns #1" in places and "Retail/Shared Documents/General" in places


async def test_site_pages_and_news_are_not_documents(graph: GraphClient, token_for: TokenFor) -> None:
    token = token_for("patti")
    for page in (await search_files(graph, token, "budget"), await recent_files(graph, token)):
        assert page.items and not any(item.name.endswith(".aspx") for item in page.items)


async def test_every_legal_name_found_gets_a_link_to_itself_and_its_folder_as_named(graph: GraphClient,
                                                                                   token_for: TokenFor) -> None:
    page = await search_files(graph, token_for("isaiah"), "Plan #2")
    plan = next(item for item in page.items if item.name == "Plan #2.docx")
    assert plan.web_url == ("https://contoso.sharepoint.com/sites/Marketing/Shared%20Documents/Campaigns%20%231/"
                            "Plan%20%232.docx")
    assert plan.folder_path == "Marketing/Shared Documents/Campaigns #1"


def test_the_next_page_starts_a_page_size_on_even_when_fewer_hits_came_back() -> None:
    """search-api-overview pages by `from` and `size`; a page may hold fewer hits than asked and still have more."""
    hits = [{"hitId": str(index), "resource": {"name": f"Doc {index}.docx"}} for index in range(3)]
    body = {"value": [{"hitsContainers": [{"hits": hits, "moreResultsAvailable": True}]}]}
    page = files_page(body, None, None, 20)
    assert len(page.items) == 3 and page.more() == {"from": 20 + PAGE_SIZE}
