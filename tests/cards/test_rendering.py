"""Every card the agent sends, drawn by the official Adaptive Cards renderer (npm `adaptivecards`) with Teams' light
host config in headless Chromium, wide (desktop) and narrow (phone). The renderer must not complain, every text, fact
and button must be on screen and fit its box, and images must load. PNGs of each card are left in the session's
temporary folder (`cards-png*`) for a person to look at."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import ConsoleMessage, Page, Route, async_playwright

from cards.calendar import calendar_card, calendar_text
from cards.common import Card
from cards.errors import error_card, error_text
from cards.files import files_card, files_text
from cards.help import Suggestion, help_card, help_text, question_card, question_text
from cards.profile import profile_card, profile_text
from graph.errors import GraphBusy, GraphError, GraphUnavailable, MissingPermission, NotAGraphLink, SignInRequired
from graph.models import CalendarEvent, DriveItem, Presence
from localcloud import seed
from localcloud.tenant import USERS
from skills.catalog import COMMANDS
from skills.help import WELCOME
from tests.cards.harness import sent, walk
from tests.cards.test_calendar import BARE as BARE_EVENT
from tests.cards.test_calendar import CANCELLED, DAY, HOLIDAY, NEXT, STANDUP
from tests.cards.test_calendar import page as calendar_page
from tests.cards.test_files import BARE as BARE_ITEM
from tests.cards.test_files import BUDGET, NOW
from tests.cards.test_files import NEXT as FILES_NEXT
from tests.cards.test_files import page as files_page
from tests.cards.test_profile import FULL, SPARSE
from tests.support import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

RENDER = Path(__file__).parent / "render"
RENDERER = Path(__file__).parents[2] / "node_modules/adaptivecards/dist/adaptivecards.min.js"
HOST_CONFIG = json.loads((RENDER / "microsoft-teams-light.json").read_text(encoding="utf-8"))
WIDTHS = {"wide": 640, "narrow": 340}
"""The chat message's width: Teams on a desktop (a `Full` width card) and on a phone."""

PHOTO = "data:image/jpeg;base64," + base64.b64encode(seed.photo(USERS[0], 64)).decode()
"""The 64x64 photo the local Graph serves, as the agent receives it."""
LONG_SUBJECT = CalendarEvent(
    id="8", subject="Quarterly business review with Contoso and Northwind: pricing, roadmap and the FY27 partnership",
    start=DAY.replace(hour=10), end=DAY.replace(hour=11, minute=30),
    location="Building 4, Conference Room Rainier (12 seats) and Microsoft Teams", organizer_name="Patti Fernandez",
    join_url=STANDUP.join_url, is_online=True)
RETRO = CalendarEvent(id="9", subject="Sprint retro", start=DAY + timedelta(days=2, hours=10),
                      end=DAY + timedelta(days=2, hours=11), location="Room 2")
RELEASE = CalendarEvent(id="10", subject="Release night", start=DAY + timedelta(days=3, hours=22),
                        end=DAY + timedelta(days=4, hours=1), organizer_name="Lee Gu")
LONG_FILE = DriveItem(id="3", name="Contoso_Northwind_Partnership_Agreement_FY27_final_v3_signed_by_legal.docx",
                      kind="word", size=3_400_000, modified_at=NOW - timedelta(minutes=5), modified_by="Lee Gu",
                      web_url=BUDGET.web_url, folder_path="/Documents/Legal/Contracts/2026/Partners/Northwind")
DECK = DriveItem(id="4", name="Offsite.pptx", kind="powerpoint", size=48_000_000, modified_at=NOW - timedelta(days=40),
                 modified_by="Megan Bowen", web_url=BUDGET.web_url, folder_path="/")


TOMORROW = Suggestion("What's on my calendar tomorrow?", "/calendar tomorrow")
BUDGET_SEARCH = Suggestion("Find “budget”", "/files budget")
LINES = [record.help_line for record in COMMANDS]

ERRORS: list[tuple[GraphError, str]] = [
    (SignInRequired(), "/me"), (MissingPermission("Calendars.Read"), "/calendar"), (GraphBusy(30), "/files budget"),
    (GraphUnavailable(), "/calendar week"), (NotAGraphLink(), "/files"), (GraphError("?"), "/me")]
"""Each error card, with the command the user typed."""


def _cards() -> dict[str, Card]:
    """Each card as the agent sends it (with its fallback text), after the schema harness's checks."""
    profiles = {"full": replace(FULL, photo_data_uri=PHOTO), "no photo": replace(FULL, photo_data_uri=None),
                "sparse": SPARSE, "available": replace(SPARSE, presence=Presence("Available")),
                "away": replace(SPARSE, presence=Presence("Away", "Away"))}
    calendars = {"day": calendar_page(HOLIDAY, STANDUP, LONG_SUBJECT, CANCELLED, BARE_EVENT),
                 "week": calendar_page(HOLIDAY, STANDUP, RETRO, RELEASE, days=7), "empty day": calendar_page(),
                 "more": calendar_page(STANDUP, CANCELLED, next_link=NEXT)}
    files = {"recent": files_page(BUDGET, LONG_FILE, DECK, BARE_ITEM), "search": files_page(BUDGET, query="budget"),
             "empty": files_page(), "empty search": files_page(query="budget"),
             "more": files_page(BUDGET, query="budget", next_from=FILES_NEXT)}
    return {
        "help": sent(help_card(commands=LINES), help_text(commands=LINES)),
        "welcome": sent(help_card(WELCOME, commands=LINES), help_text(WELCOME, commands=LINES)),
        "help with a suggestion": sent(help_card("Sorry, I didn't get that.", TOMORROW, commands=LINES),
                                       help_text("?", TOMORROW, commands=LINES)),
        "question": sent(question_card("Which did you mean?", [TOMORROW, BUDGET_SEARCH]),
                         question_text("Which did you mean?", [TOMORROW, BUDGET_SEARCH])),
        **{f"profile {name}": sent(profile_card(p), profile_text(p)) for name, p in profiles.items()},
        **{f"calendar {name}": sent(calendar_card(c), calendar_text(c)) for name, c in calendars.items()},
        **{f"files {name}": sent(files_card(f, NOW), files_text(f, NOW)) for name, f in files.items()},
        **{f"error {type(error).__name__}": sent(error_card(error, command), error_text(error, command))
           for error, command in ERRORS},
    }


CARDS = _cards()


def readable(card: Card) -> list[str]:
    """What must be on screen: every TextBlock and TextRun, fact title and value, and button title."""
    found: list[str] = []
    for node in walk(card):
        if isinstance(node, dict) and node.get("type") in {"TextBlock", "TextRun"}:
            found.append(node["text"])
        elif isinstance(node, dict) and "title" in node and "value" in node:
            found += [node["title"], node["value"]]
    return found + buttons(card)


def buttons(card: Card) -> list[str]:
    """Button titles in screen order: ActionSets in the body, then the card's action bar (selectActions are no
    buttons)."""
    action_sets = [node for node in walk(card["body"]) if isinstance(node, dict) and node.get("type") == "ActionSet"]
    return [action["title"] for owner in [*action_sets, card] for action in owner.get("actions", [])]


def tappable(card: Card) -> int:
    return sum(1 for node in walk(card) if isinstance(node, dict) and "selectAction" in node)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def png_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cards-png")


@pytest.fixture(scope="module")
async def renderer() -> AsyncIterator[tuple[Page, list[str]]]:
    """One browser and one page with the renderer loaded, for every card; the list collects console complaints."""

    async def local_only(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in {"file", "data"} or url.hostname in {"127.0.0.1", "localhost"}:
            await route.continue_()
        else:
            await route.abort()

    def complain(message: ConsoleMessage) -> None:
        # Teams applies its own markdown subset, which no npm package reproduces: text is drawn as typed.
        if message.type in {"error", "warning"} and "Markdown processing isn't enabled" not in message.text:
            complaints.append(f"console {message.type}: {message.text}")

    if not RENDERER.is_file():
        pytest.fail(f"{RENDERER} is missing: run `make setup` (npm ci)")
    complaints: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 720, "height": 900})
            await page.route("**/*", local_only)
            page.on("console", complain)
            page.on("pageerror", lambda error: complaints.append(f"page error: {error}"))
            await page.goto((RENDER / "index.html").as_uri())
            assert await page.evaluate("typeof AdaptiveCards.AdaptiveCard") == "function"
            yield page, complaints
        finally:
            await browser.close()


async def render(page: Page, card: Card, width: int, png: Path) -> dict[str, Any]:
    result = await page.evaluate("([card, config, width]) => renderCard(card, config, width)",
                                 [card, HOST_CONFIG, width])
    await page.locator("#message").screenshot(path=png)
    return result


@pytest.mark.parametrize("name", CARDS)
@pytest.mark.parametrize("width", WIDTHS)
async def test_the_teams_renderer_draws_the_whole_card(renderer: tuple[Page, list[str]], png_dir: Path, name: str,
                                                       width: str) -> None:
    page, complaints = renderer
    card = CARDS[name]
    complaints.clear()
    drawn = await render(page, card, WIDTHS[width], png_dir / f"{name.replace(' ', '-')}-{width}.png")
    assert drawn["rendered"] and drawn["problems"] == [] and complaints == []
    screen = _flat(drawn["text"])
    assert [text for text in readable(card) if _flat(text) not in screen] == []
    assert (drawn["buttons"], drawn["tappable"]) == (buttons(card), tappable(card))
    assert drawn["clipped"] == []
    assert [image for image in drawn["images"] if not image["loaded"]] == []
