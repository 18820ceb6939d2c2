"""`get_calendar`: the user's events in their zone, all-day and recurring events, paging with the zone kept."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from graph.calendar import PAGE_SIZE, get_calendar, window
from graph.client import GraphClient
from graph.errors import GraphBusy, GraphError, MissingPermission
from graph.models import CalendarPage
from localcloud.cloud import Cloud
from localcloud.faults import Fault
from localcloud.tenant import AGENT_GRAPH_SCOPES
from tests.graph.conftest import TokenFor

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


async def all_pages(graph: GraphClient, token: str, **kwargs: str) -> list[CalendarPage]:
    pages = [await get_calendar(graph, token, "week", **kwargs)]
    while pages[-1].next_link:
        pages.append(await get_calendar(graph, token, "week", next_link=pages[-1].next_link, **kwargs))
    return pages


async def test_mailbox_time_zone_is_used_when_none_is_given(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("diego"), "week")
    assert page.time_zone == "Tokyo Standard Time" and page.start.utcoffset() == timedelta(hours=9)
    standup = next(event for event in page.events if event.subject == "Daily stand-up")
    assert standup.start.hour == 9 and standup.start.utcoffset() == timedelta(hours=9) and standup.is_recurring


async def test_a_given_time_zone_wins_over_the_mailbox(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("adele"), "week", time_zone="Asia/Tokyo")
    assert page.time_zone == "Asia/Tokyo" and page.events
    assert all(event.start.utcoffset() == timedelta(hours=9) for event in page.events)
    standup = next(event for event in page.events if event.subject == "Daily stand-up")
    assert standup.start.astimezone(LOS_ANGELES).hour == 9


async def test_without_mailbox_settings_scope_the_zone_is_utc(graph: GraphClient, token_for: TokenFor) -> None:
    scopes = tuple(scope for scope in AGENT_GRAPH_SCOPES if scope != "MailboxSettings.Read")
    page = await get_calendar(graph, token_for("adele", scopes=scopes), "today")
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
    assert {(page.start, page.end) for page in pages} == {(pages[0].start, pages[0].end)}


async def test_all_day_event_starts_at_local_midnight(graph: GraphClient, token_for: TokenFor) -> None:
    events = [event for page in await all_pages(graph, token_for("adele")) for event in page.events]
    all_day = next(event for event in events if event.is_all_day)
    assert (all_day.start.hour, all_day.start.minute) == (0, 0) and all_day.start.tzinfo == LOS_ANGELES
    assert all_day.end - all_day.start >= timedelta(days=1)


async def test_online_meetings_have_a_join_url_and_organizer(graph: GraphClient, token_for: TokenFor) -> None:
    events = [event for page in await all_pages(graph, token_for("adele")) for event in page.events]
    online = [event for event in events if event.is_online]
    assert online and all(event.join_url for event in online)
    assert all(event.organizer_name and event.organizer_mail and event.web_link for event in events)


async def test_empty_calendar_is_an_empty_page(graph: GraphClient, token_for: TokenFor) -> None:
    page = await get_calendar(graph, token_for("lidia"), "week")
    assert page.events == () and page.next_link is None


async def test_calendar_without_its_scope_names_the_permission(graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(MissingPermission) as raised:
        await get_calendar(graph, token_for("adele", scopes=("User.Read",)), "today", time_zone="UTC")
    assert raised.value.permission == "Calendars.ReadBasic"


async def test_a_next_link_to_another_host_is_refused(local: Cloud, graph: GraphClient, token_for: TokenFor) -> None:
    with pytest.raises(GraphError):
        await get_calendar(graph, token_for("adele"), next_link=f"{local.endpoints.login}/v1.0/me/calendarView")


def test_windows_span_local_days_across_a_dst_change() -> None:
    before_change = datetime(2026, 3, 7, 15, 30, tzinfo=LOS_ANGELES)
    start, end = window("week", LOS_ANGELES, before_change)
    assert (start.hour, end.hour, (end.date() - start.date()).days) == (0, 0, 7)
    assert window("tomorrow", LOS_ANGELES, before_change)[0].day == 8
    assert window("next", LOS_ANGELES, before_change)[0] == before_change


async def test_throttled_calendar_is_graph_busy_at_once(local: Cloud, graph: GraphClient,
                                                        token_for: TokenFor) -> None:
    local.faults.add(Fault(service="graph", path="/v1.0/me/calendarView", status=429, retry_after=30))
    started = time.monotonic()
    with pytest.raises(GraphBusy) as raised:
        await get_calendar(graph, token_for("adele"), "today", time_zone="UTC")
    assert raised.value.retry_after == 30 and time.monotonic() - started < 1
