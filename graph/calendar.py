"""`/calendar`: one page of `calendarView` (recurring series expanded) in the user's time zone.

The zone goes in `Prefer: outlook.timezone`, re-sent on every page: msgraph-sdk's PageIterator drops it after
page 1 (`graph-facts.md`), so paging is done here with the page's `@odata.nextLink`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.headers_collection import HeadersCollection
from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import CalendarViewRequestBuilder
from msgraph.generated.users.item.mailbox_settings.mailbox_settings_request_builder import (
    MailboxSettingsRequestBuilder,
)

from graph import timezones
from graph.client import GraphClient, GraphSession
from graph.errors import MissingPermission, NotAGraphLink
from graph.models import CalendarEvent, CalendarPage

DayRange = Literal["today", "tomorrow", "week", "next"]
DAY_RANGES: tuple[DayRange, ...] = ("today", "tomorrow", "week", "next")
PERMISSION = "Calendars.ReadBasic"
PAGE_SIZE = 10
_SELECT = ["subject", "start", "end", "isAllDay", "location", "organizer", "onlineMeeting", "isOnlineMeeting",
           "isCancelled", "showAs", "webLink", "type"]
UTC = ("UTC", ZoneInfo("UTC"))


def window(day_range: DayRange, zone: ZoneInfo, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in `zone`: today, tomorrow, the 7 days from today's midnight, or the 7 days from now."""
    now = (now or datetime.now(zone)).astimezone(zone)
    midnight = datetime.combine(now.date(), time(), zone)
    if day_range == "today":
        return midnight, _midnight_after(midnight, 1)
    if day_range == "tomorrow":
        return _midnight_after(midnight, 1), _midnight_after(midnight, 2)
    if day_range == "week":
        return midnight, _midnight_after(midnight, 7)
    if day_range == "next":
        return now, now + timedelta(days=7)
    raise ValueError(f"day_range must be one of {', '.join(DAY_RANGES)}, not {day_range!r}")


def _midnight_after(midnight: datetime, days: int) -> datetime:
    """Local midnight `days` later (a plain timedelta would drift by an hour across a DST change)."""
    return datetime.combine(midnight.date() + timedelta(days=days), time(), midnight.tzinfo)


async def resolve_time_zone(session: GraphSession, given: str | None) -> tuple[str, ZoneInfo]:
    """The given zone (Teams' `localTimezone`), else the mailbox's, else UTC; as (name for Graph, zone)."""
    found = timezones.resolve(given)
    if found:
        return found
    query = MailboxSettingsRequestBuilder.MailboxSettingsRequestBuilderGetQueryParameters(select=["timeZone"])
    request = session.sdk.me.mailbox_settings.to_get_request_information(RequestConfiguration(query_parameters=query))
    try:
        settings = await session.send_json(request, "MailboxSettings.Read")
    except MissingPermission:
        return UTC
    return timezones.resolve(settings.get("timeZone")) or UTC


async def get_calendar(graph: GraphClient, token: str, day_range: DayRange = "today", time_zone: str | None = None,
                       next_link: str | None = None) -> CalendarPage:
    """A page of up to 10 events in the window, earliest first; `next_link` continues a previous page."""
    session = graph.session(token)
    zone_name, zone = await resolve_time_zone(session, time_zone)
    headers = HeadersCollection()
    headers.add("Prefer", f'outlook.timezone="{zone_name}"')
    builder = session.sdk.me.calendar_view
    if next_link:
        if not session.is_graph_url(next_link):
            raise NotAGraphLink()
        start, end = _link_window(next_link, zone) or window(day_range, zone)
        request = builder.with_url(next_link).to_get_request_information(RequestConfiguration(headers=headers))
    else:
        start, end = window(day_range, zone)
        query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
            start_date_time=start.isoformat(), end_date_time=end.isoformat(), top=PAGE_SIZE,
            orderby=["start/dateTime"], select=_SELECT)
        request = builder.to_get_request_information(RequestConfiguration(query_parameters=query, headers=headers))
    body = await session.send_json(request, PERMISSION)
    events = tuple(_event(item, zone) for item in body.get("value") or [] if isinstance(item, dict))
    return CalendarPage(events=events, time_zone=zone_name, start=start, end=end,
                        next_link=body.get("@odata.nextLink") or None)


def _link_window(link: str, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The window a next-page link carries, so a later page reports the window of the first."""
    query = {key.lower(): values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    try:
        start = datetime.fromisoformat(query["startdatetime"].replace(" ", "+"))
        end = datetime.fromisoformat(query["enddatetime"].replace(" ", "+"))
    except (KeyError, ValueError):
        return None
    if start.tzinfo is None or end.tzinfo is None:
        return None
    return start.astimezone(zone), end.astimezone(zone)


def _time(value: Any, zone: ZoneInfo, all_day: bool) -> datetime:
    """Graph's `dateTimeTimeZone` as an aware time in `zone`; all-day events keep their date at local midnight."""
    value = value if isinstance(value, dict) else {}
    local = datetime.fromisoformat(str(value.get("dateTime") or "1970-01-01T00:00:00")[:19])
    if all_day:
        return datetime.combine(local.date(), time(), zone)
    _, sent_in = timezones.resolve(value.get("timeZone")) or UTC
    return local.replace(tzinfo=sent_in).astimezone(zone)


def _event(item: dict[str, Any], zone: ZoneInfo) -> CalendarEvent:
    all_day = bool(item.get("isAllDay"))
    organizer = (item.get("organizer") or {}).get("emailAddress") or {}
    meeting = item.get("onlineMeeting") or {}
    return CalendarEvent(
        id=str(item.get("id") or ""),
        subject=item.get("subject") or "",
        start=_time(item.get("start"), zone, all_day),
        end=_time(item.get("end"), zone, all_day),
        is_all_day=all_day,
        location=(item.get("location") or {}).get("displayName") or None,
        organizer_name=organizer.get("name") or None,
        organizer_mail=organizer.get("address") or None,
        join_url=meeting.get("joinUrl") or None,
        is_online=bool(item.get("isOnlineMeeting")),
        is_cancelled=bool(item.get("isCancelled")),
        show_as=item.get("showAs") or None,
        web_link=item.get("webLink") or None,
        is_recurring=item.get("type") in ("occurrence", "exception"),
    )
