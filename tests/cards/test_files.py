"""The /files card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cards.files import files_card, files_text, human_size, relative_time
from graph.models import DriveItem, FilesPage
from tests.cards.harness import actions, sent, texts

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NEXT = 10
URL = "https://contoso-my.sharepoint.com/personal/meganb/Documents/Budget.xlsx"
BUDGET = DriveItem(id="1", name="Budget.xlsx", kind="excel", size=12_800, modified_at=NOW - timedelta(days=2),
                   modified_by="Megan Bowen", web_url=URL, folder_path="/Documents/Finance")
BARE = DriveItem(id="2", name="Notes", kind="other")


def page(*items: DriveItem, query: str | None = None, next_from: int | None = None) -> FilesPage:
    return FilesPage(items=items, query=query, next_from=next_from)


def shown(files: FilesPage) -> dict:
    return sent(files_card(files, NOW), files_text(files, NOW))


PAGES = {"full": page(BUDGET, BARE), "sparse": page(BARE), "empty": page(), "empty search": page(query="budget"),
         "more": page(BUDGET, query="budget", next_from=NEXT)}


@pytest.mark.parametrize("files", PAGES.values(), ids=PAGES.keys())
def test_the_files_card_is_valid(files: FilesPage) -> None:
    shown(files)


def test_an_item_shows_kind_size_who_when_and_folder() -> None:
    facts = "📊 Excel · 12.5 KB · modified 2 days ago by Megan Bowen · in /Documents/Finance"
    assert facts in texts(shown(page(BUDGET)))


def test_an_item_with_only_a_name_shows_only_its_kind() -> None:
    assert texts(shown(page(BARE)))[1:] == ["Notes", "📄 File"]


def test_the_name_opens_the_web_url() -> None:
    [open_item] = actions(shown(page(BUDGET)))
    assert (open_item["type"], open_item["url"]) == ("Action.OpenUrl", URL)


def test_recent_files_are_headed_as_such() -> None:
    assert texts(shown(page(BUDGET)))[0] == "Your recent files"


def test_search_results_name_the_query() -> None:
    assert texts(shown(page(BUDGET, query="budget")))[0] == "Files matching “budget”"


def test_no_recent_files_says_so() -> None:
    assert "No documents you created or changed in OneDrive or SharePoint." in texts(shown(page()))


def test_a_search_without_results_says_so() -> None:
    assert "No files match “budget”." in texts(shown(page(query="budget")))


def test_more_carries_where_the_next_page_starts_and_the_search() -> None:
    [more] = [a for a in actions(shown(page(BUDGET, query="budget", next_from=NEXT))) if a["title"] == "More"]
    assert more["data"] == {"command": "/files budget", "from": NEXT}


def test_a_folder_is_shown_as_a_person_reads_it() -> None:
    study = DriveItem(id="3", name="Plan.docx", kind="word", folder_path="/Projects/Delta Study")
    at_root = DriveItem(id="4", name="Plan.docx", kind="word", folder_path="/")
    assert "📝 Word · in /Projects/Delta Study" in texts(shown(page(study)))
    assert "📝 Word · in My files" in texts(shown(page(at_root)))


def test_the_last_page_has_no_more_button() -> None:
    assert "More" not in [a["title"] for a in actions(shown(page(BUDGET)))]


@pytest.mark.parametrize(("size", "label"), [
    (0, "0 bytes"), (1, "1 byte"), (532, "532 bytes"), (1023, "1023 bytes"), (1024, "1.00 KB"), (1340, "1.31 KB"),
    (12_800, "12.5 KB"), (353_280, "345 KB"), (1_024_000, "0.98 MB"), (1_045_811, "1.00 MB"), (10_480_517, "9.99 MB"),
    (10_480_518, "10.0 MB"),
    (48_000_000, "45.8 MB"), (2_147_483_647, "2.00 GB"), (3 * 1024**3, "3.00 GB"), (2 * 1024**5, "2.00 PB")])
def test_sizes_are_human_readable(size: int, label: str) -> None:
    assert human_size(size) == label


@pytest.mark.parametrize(("ago", "label"), [
    (timedelta(seconds=30), "just now"), (timedelta(minutes=1), "1 minute ago"),
    (timedelta(minutes=5), "5 minutes ago"), (timedelta(hours=3), "3 hours ago"),
    (timedelta(days=1, hours=2), "yesterday"), (timedelta(days=2), "2 days ago"),
    (timedelta(days=45), "on 8 Oct 2026"), (-timedelta(minutes=3), "just now"),
])
def test_modified_times_are_relative_to_now(ago: timedelta, label: str) -> None:
    assert relative_time(NOW - ago, NOW) == label


def test_the_fallback_text_carries_name_facts_and_link() -> None:
    text = files_text(page(BUDGET), NOW)
    assert all(fact in text for fact in ("Budget.xlsx", "12.5 KB", "2 days ago", "Megan Bowen", URL))


def test_the_fallback_text_of_an_empty_search_says_so() -> None:
    assert files_text(page(query="budget"), NOW) == "No files match “budget”."


def test_the_fallback_text_says_when_there_are_more_files() -> None:
    assert "more files" in files_text(page(BUDGET, next_from=NEXT), NOW)
