"""`get_calendar`: the user's events in their mailbox's zone in one round trip, all-day events on their own dates,
paging with the window and zone carried beside Graph's link."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from auth.cloud import cloud_from_settings
from graph import timezones
from graph.calendar import (
    PAGE_SIZE,
    get_calendar,
    log_missing_mailbox_settings,
    next_calendar_page,
    next_page_from,
    window,
)
from graph.client import GraphClient, SharedHttp, user_key
from graph.errors import GraphBusy, MissingPermission, NotAGraphLink
from graph.models import CalendarPage
from localcloud import seed
from localcloud.cloud import Cloud
from localcloud.faults import Fault
from localcloud.tenant import AGENT_GRAPH_SCOPES
from tests.graph.conftest import TokenFor

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NO_MAILBOX_SETTINGS = tuple(scope for scope in AGENT_GRAPH_SCOPES if scope != "MailboxSettings.Read")


async def all_pages(graph: GraphClient, token: str, **kwargs: str) -> list[CalendarPage]:
    pages = [await get_calendar(graph, token, "week", **kwargs)]
    while (more := pages[-1].more()) is not None:
        following = next_page_from(more)
        assert following is not None
        pages.append(await next_calendar_page(graph, token, following))
    return pages


def round_trips(local: Cloud, since: int) -> list[str]:
    return [entry["path"] for entry in local.graph_requests.after(since)]


def last_request(local: Cloud) -> int:
    return (local.graph_requests.after(0) or [{"seq": 0}])[-1]["seq"]


async def test_the_mailbox_zone_wins_over_the_chats_utc(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("diego"), "week", chat_zone="UTC")
    assert page.time_zone == "Tokyo Standard Time" and page.start.utcoffset() == timedelta(hours=9)
    standup = next(event for event in page.events if event.subject == "Daily stand-up")
    assert standup.start.hour == 9 and standup.start.utcoffset() == timedelta(hours=9) and standup.is_recurring


async def test_a_callers_time_zone_wins_over_the_mailbox(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("adele"), "week", time_zone="Asia/Tokyo")
    assert page.time_zone == "Tokyo Standard Time" and page.events
    assert all(event.start.utcoffset() == timedelta(hours=9) for event in page.events)
    standup = next(event for event in page.events if event.subject == "Daily stand-up")
    assert standup.start.astimezone(LOS_ANGELES).hour == 9


@pytest.mark.parametrize(("chat_zone", "label", "iana"), [
    ("Europe/Amsterdam", "W. Europe Standard Time", "Europe/Amsterdam"),
    ("America/Los_Angeles", "Pacific Standard Time", "America/Los_Angeles"),
    ("Asia/Kolkata", "India Standard Time", "Asia/Kolkata"),
    ("UTC", "UTC", "UTC"),
    ("Mars/Olympus_Mons", "UTC", "UTC"),
])
async def test_without_a_mailbox_zone_the_chats_zone_gives_the_right_meetings_at_the_right_times(
        graph: GraphClient, token_for: TokenFor, chat_zone: str, label: str, iana: str) -> None:
    """Graph refuses Europe/Amsterdam in Prefer: it is sent as its Windows name, and computed as Amsterdam."""
    adele = seed.user_by_username("adele")
    page = await get_calendar(graph, token_for("adele", scopes=NO_MAILBOX_SETTINGS), "week", chat_zone=chat_zone)
    timed = [event for event in page.events if not event.is_all_day]
    assert page.time_zone == label and timed
    for event in timed:
        seeded = seed.find_event(adele, seed.today_for(adele), event.id)
        assert seeded is not None and event.subject == seeded.subject
        assert event.start == seeded.start
        assert event.start.utcoffset() == event.start.astimezone(ZoneInfo(iana)).utcoffset()


async def test_calendar_costs_one_round_trip_once_the_zone_is_known(local: Cloud, token_for: TokenFor) -> None:
    """The mailbox zone comes in the same `$batch` as the events; a wrong first guess (the Playground's UTC) costs a
    second request once, then the user's zone is known."""
    settings = cloud_from_settings(local.agent_settings())
    fresh = GraphClient(settings, SharedHttp(settings))
    try:
        since = last_request(local)
        await get_calendar(fresh, token_for("megan"), chat_zone="UTC")
        first = round_trips(local, since)
        since = last_request(local)
        await get_calendar(fresh, token_for("megan"), chat_zone="UTC")
        again = round_trips(local, since)
        since = last_request(local)
        await get_calendar(fresh, token_for("diego"), chat_zone="Asia/Tokyo")
        guessed = round_trips(local, since)
    finally:
        await fresh.aclose()
    assert first == ["/v1.0/$batch", "/v1.0/me/calendarView"]
    assert again == ["/v1.0/$batch"] and guessed == ["/v1.0/$batch"]


async def test_a_stale_known_zone_is_corrected_by_the_mailbox(graph: GraphClient, token_for: TokenFor) -> None:
    token = token_for("isaiah")
    graph.known_zones.put(user_key(token), timezones.resolve("Asia/Tokyo"))  # type: ignore[arg-type]
    page = await get_calendar(graph, token)
    assert page.time_zone == "GMT Standard Time" and graph.known_zones.get(user_key(token)) == timezones.resolve(
        "Europe/London")


async def test_without_mailbox_settings_scope_or_chat_zone_the_zone_is_utc(graph: GraphClient,
                                                                          token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("adele", scopes=NO_MAILBOX_SETTINGS), "today")
    assert page.time_zone == "UTC" and page.start.utcoffset() == timedelta(0)


async def test_week_pages_hold_every_event_once_in_order_and_in_the_zone(graph: GraphClient,
                                                                        token_for: TokenFor) -> None:
    pages = await all_pages(graph, token_for("adele"))
    events = [event for page in pages for event in page.events]
    assert len(pages) >= 2 and all(len(page.events) <= PAGE_SIZE for page in pages)
    assert len({event.id for event in events}) == len(events)
    assert [event.start for event in events] == sorted(event.start for event in events)
    assert {event.start.utcoffset() for event in events if not event.is_all_day} <= {timedelta(hours=-7),
                                                                                      timedelta(hours=-8)}
    assert {(page.start, page.end, page.time_zone) for page in pages} == {(pages[0].start, pages[0].end,
                                                                           "Pacific Standard Time")}


def zones_on_another_date(than: date) -> list[str]:
    """Zones whose date now is not `than`: at any moment UTC+14 or UTC-12 is a day away from the Pacific."""
    return [name for name in ("Pacific/Kiritimati", "Etc/GMT+12")
            if datetime.now(ZoneInfo(name)).date() != than]


async def test_an_all_day_event_is_on_its_own_date_in_every_view(graph: GraphClient, token_for: TokenFor) -> None:
    adele = seed.user_by_username("adele")
    offsite_day = seed.today_for(adele)
    zones = zones_on_another_date(offsite_day)
    assert zones
    for zone in zones:
        for day_range in ("today", "tomorrow", "week"):
            page = await get_calendar(graph, token_for("adele"), day_range, time_zone=zone)  # type: ignore[arg-type]
            first, last = page.start.date(), (page.end - timedelta(microseconds=1)).date()
            all_day = [event for event in page.events if event.is_all_day]
            assert all(event.start.date() <= last and event.end.date() > first for event in all_day), (zone, day_range)
            if day_range == "week":
                offsite = [event for event in all_day if event.subject == "Team offsite"]
                assert [event.start.date() for event in offsite] == ([offsite_day] if first <= offsite_day <= last
                                                                     else [])


async def test_online_meetings_have_a_join_url_and_organizer(graph: GraphClient, token_for: TokenFor) -> None:
    events = [event for page in await all_pages(graph, token_for("adele")) for event in page.events]
    online = [event for event in events if event.is_online]
    assert online and all(event.join_url for event in online)
    assert all(event.organizer_name and event.organizer_mail and event.web_link for event in events)


async def test_empty_calendar_is_an_empty_page(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("lidia"), "week")
    assert page.events == () and page.next_link is None and page.more() is None


async def test_calendar_without_its_scope_names_the_permission(graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(MissingPermission) as raised:
        await get_calendar(graph, token_for("adele", scopes=("User.Read",)), "today")
    assert raised.value.permission == "Calendars.ReadBasic"


async def test_a_next_link_to_another_host_is_refused(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    page = next_page_from({"nextLink": f"{local.endpoints.login}/v1.0/me/calendarView", "timeZone": "UTC",
                           "start": "2026-11-30T00:00:00+00:00", "end": "2026-12-01T00:00:00+00:00"})
    assert page is not None
    with pytest.raises(NotAGraphLink):
        await next_calendar_page(graph, token_for("adele"), page)


@pytest.mark.parametrize("data", [
    {},
    {"nextLink": "https://graph/x", "timeZone": "Nowhere/Else", "start": "2026-11-30T00:00:00+00:00",
     "end": "2026-12-01T00:00:00+00:00"},
    {"nextLink": "https://graph/x", "timeZone": "UTC", "start": "2026-11-30T00:00:00", "end": "2026-12-01T00:00:00"},
    {"nextLink": "https://graph/x", "timeZone": "UTC", "start": "2026-12-01T00:00:00+00:00",
     "end": "2026-11-30T00:00:00+00:00"},
    {"nextLink": "https://graph/x", "timeZone": "UTC", "start": "2026-01-01T00:00:00+00:00",
     "end": "2026-12-01T00:00:00+00:00"},
    {"nextLink": 7, "timeZone": "UTC", "start": "2026-11-30T00:00:00+00:00", "end": "2026-12-01T00:00:00+00:00"},
])
def test_a_more_button_that_makes_no_sense_asks_for_the_first_page(data: dict[str, object]) -> None:
    assert next_page_from(data) is None


def test_windows_span_local_days_across_a_dst_change() -> None:
    zone = timezones.resolve("America/Los_Angeles")
    assert zone is not None
    before_change = datetime(2026, 3, 7, 15, 30, tzinfo=LOS_ANGELES)
    start, end = window("week", zone, before_change)
    assert (start.hour, end.hour, (end.date() - start.date()).days) == (0, 0, 7)
    assert window("tomorrow", zone, before_change)[0].day == 8
    assert window("next", zone, before_change)[0] == before_change


async def test_throttled_calendar_is_graph_busy_at_once(local: Cloud, graph: GraphClient,
                                                        token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me/calendarView", status=429, retry_after=30))
    started = time.monotonic()
    with pytest.raises(GraphBusy) as raised:
        await get_calendar(graph, token_for("adele"), "today")
    assert raised.value.retry_after == 30 and time.monotonic() - started < 1


async def test_a_throttled_calendar_item_is_retried_within_the_deadline(local: Cloud, graph: GraphClient,
                                                                        token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me/calendarView", status=429, retry_after=1, count=1))
    page = await get_calendar(graph, token_for("adele"), "week")
    assert page.events and not local.faults.list()


async def test_a_mailbox_that_fails_to_answer_leaves_the_guess_standing(local: Cloud, token_for: TokenFor) -> None:
    """A 5xx is no answer: the page stays in the zone guessed (here the chat's) rather than costing a second request."""
    settings = cloud_from_settings(local.agent_settings())
    fresh = GraphClient(settings, SharedHttp(settings))
    local.faults.add(Fault(service="graph", path="/v1.0/me/mailboxSettings/timeZone", status=500))
    try:
        page = await get_calendar(fresh, token_for("patti"), chat_zone="Europe/London")
    finally:
        await fresh.aclose()
    assert page.time_zone == "GMT Standard Time" and page.events


async def test_a_throttled_zone_lookup_is_not_remembered_as_the_mailboxs_answer(local: Cloud,
                                                                              token_for: TokenFor) -> None:
    """Too long a `Retry-After` to wait for: the chat's zone is shown this once, and the mailbox is asked again."""
    settings = cloud_from_settings(local.agent_settings())
    fresh = GraphClient(settings, SharedHttp(settings))
    token = token_for("adele")
    local.faults.add(Fault(service="graph", path="/v1.0/me/mailboxSettings/timeZone", status=429, retry_after=30))
    try:
        page = await get_calendar(fresh, token, chat_zone="Europe/London")
    finally:
        await fresh.aclose()
    assert page.time_zone == "GMT Standard Time" and page.events and fresh.known_zones.get(user_key(token)) is None


async def test_a_refused_mailbox_settings_lookup_is_logged_once_naming_the_permission(
        graph: GraphClient, token_for: TokenFor, caplog: pytest.LogCaptureFixture) -> None:
    log_missing_mailbox_settings.cache_clear()
    with caplog.at_level(logging.WARNING, logger="graph.calendar"):
        for name in ("adele", "megan"):
            await get_calendar(graph, token_for(name, scopes=NO_MAILBOX_SETTINGS), "today")
    assert [record.getMessage().count("MailboxSettings.Read") for record in caplog.records] == [1]


def test_a_mailbox_in_utc_is_the_utc_guess_so_it_costs_no_second_round_trip() -> None:
    assert timezones.resolve("UTC") == timezones.UTC


def test_windows_start_in_whole_seconds() -> None:
    zone = timezones.resolve("Europe/London")
    assert zone is not None
    start, end = window("next", zone, datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London")))
    assert start.microsecond == end.microsecond == 0 and "." not in start.isoformat()
