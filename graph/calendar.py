"""`/calendar`: one page of `calendarView` (recurring series expanded) in the user's time zone, in one round trip.

Which zone: the mailbox's `timeZone`, the zone the user chose in Outlook and the one Microsoft's Graph tutorials show
a calendar in (user-get-mailboxsettings; Outlook on the web shows meetings in it on every device); else the chat's
(Teams' `localTimezone`, the device's); else UTC. The Agents Playground stamps every message `localTimezone: UTC`,
so only the mailbox gives a person their own day there.

One round trip: a `$batch` asks the mailbox's zone and the events together, the events in the zone guessed first (the
user's zone as last seen, else the chat's). Only when the mailbox says otherwise is the page asked again.

The zone goes in `Prefer: outlook.timezone` as a Windows name (`graph.timezones`), re-sent on every page: msgraph-sdk's
PageIterator drops it after page 1 (`docs/sdk-seams.md`), so paging is done here. A next page follows Graph's
`@odata.nextLink` whole, only ever to the Graph host (the paging page: "Do not try to extract the $skiptoken or $skip
value"); the window and zone it belongs to travel beside it in the More button's data, never read out of the link.
Each behaviour and its Microsoft Learn page: GRAPH_BEHAVIOUR.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.headers_collection import HeadersCollection
from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import CalendarViewRequestBuilder

from graph import timezones
from graph.client import WHO, BatchAnswer, BatchRequest, GraphClient, GraphSession, user_key
from graph.errors import MailboxUnavailable, NotAGraphLink
from graph.models import CalendarEvent, CalendarPage
from graph.timezones import Zone

log = logging.getLogger(__name__)

DayRange = Literal["today", "tomorrow", "week", "next"]
DAY_RANGES: tuple[DayRange, ...] = ("today", "tomorrow", "week", "next")
PERMISSION = "Calendars.ReadBasic"
PAGE_SIZE = 10
MAX_WINDOW = timedelta(days=8)
"""Longer than any window `window` makes (a week, plus an hour across a DST change): a More button carrying a longer
one was not made by us."""
_SELECT = ["subject", "start", "end", "isAllDay", "location", "organizer", "onlineMeeting", "isOnlineMeeting",
           "isCancelled", "showAs", "webLink", "type"]


def window(day_range: DayRange, zone: Zone, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in `zone`: today, tomorrow, the 7 days from today's midnight, or the 7 days from now."""
    now = (now or datetime.now(zone.tz)).astimezone(zone.tz).replace(microsecond=0)  # user-list-calendarview's form
    midnight = datetime.combine(now.date(), time(), zone.tz)
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


@dataclass(frozen=True)
class NextPage:
    """What the More button carries back (`CalendarPage.more()`): Graph's link and the window and zone it is for."""

    next_link: str
    zone: Zone
    start: datetime
    end: datetime


def next_page_from(data: Mapping[str, Any]) -> NextPage | None:
    """The next page a More button's data asks for; None when it asks for none or makes no sense (a first page is
    shown then). The link itself is checked when followed (`NotAGraphLink`)."""
    values = [data.get(key) for key in ("nextLink", "timeZone", "start", "end")]
    if not all(isinstance(value, str) for value in values):
        return None
    link, zone_name, start, end = (str(value) for value in values)
    zone = timezones.resolve(zone_name)
    try:
        first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return None
    if zone is None or first.tzinfo is None or last.tzinfo is None or not timedelta(0) < last - first <= MAX_WINDOW:
        return None
    return NextPage(link, zone, first.astimezone(zone.tz), last.astimezone(zone.tz))


async def get_calendar(graph: GraphClient, token: str, day_range: DayRange = "today", *, time_zone: str | None = None,
                       chat_zone: str | None = None) -> CalendarPage:
    """The first page of up to 10 events in the window, earliest first. `time_zone` (a skill caller's) is used as
    given; otherwise the mailbox's zone, else `chat_zone` (Teams' `localTimezone`), else UTC."""
    session = graph.session(token)
    asked = timezones.resolve(time_zone)
    if asked is not None:
        return await _first_page(session, day_range, asked)
    fallback = timezones.resolve(chat_zone) or timezones.UTC
    user = user_key(token)
    guess = graph.known_zones.get(user) or fallback
    start, end = window(day_range, guess)
    requests = [BatchRequest("zone", "/me/mailboxSettings/timeZone"),
                BatchRequest("events", _calendar_view_url(start, end), _prefer(guess))]
    if graph.known_users.get(user) is None:  # for `/files`, in the same round trip
        requests.append(BatchRequest("who", f"/me?$select={WHO}"))
    answers = await session.batch(requests, PERMISSION)
    if "who" in answers and answers["who"].ok:
        graph.remember_user(token, answers["who"].json())
    events = answers["events"]
    if not events.ok and isinstance(failure := events.error(PERMISSION), MailboxUnavailable):
        raise failure  # no mailbox: its zone's answer means nothing and a second request would fail the same way
    zone = _mailbox_zone(graph, user, answers["zone"], fallback) or guess
    if zone != guess:
        return await _first_page(session, day_range, zone)
    if not events.ok:
        raise events.error(PERMISSION)
    return _page(events.json(), zone, start, end)


def _mailbox_zone(graph: GraphClient, user: str, answer: BatchAnswer, fallback: Zone) -> Zone | None:
    """The zone the mailbox's answer gives, remembered for the user's next `/calendar`; None when it gave no answer.

    An answer is the zone, or a refusal that will stand: a 403 (no consent to `MailboxSettings.Read`: the chat's
    zone, logged once so an admin can see what is missing) or another 4xx. A 429 (throttling: "retry the request
    after" `Retry-After`, throttling) or a 5xx says nothing about the mailbox: the guess stands and nothing is
    remembered, so a throttled lookup never moves the user to the chat's zone for an hour."""
    if answer.status == 429 or answer.status >= 500:
        return None
    value = answer.json().get("value")
    mailbox = timezones.resolve(value) if answer.ok and isinstance(value, str) else None
    if answer.status == 403:
        log_missing_mailbox_settings()
    zone = mailbox or fallback
    graph.known_zones.put(user, zone)
    return zone


@cache
def log_missing_mailbox_settings() -> None:
    """Once per process: every user of the tenant lacks the same consent."""
    log.warning("Graph refused /me/mailboxSettings/timeZone (403): grant the agent MailboxSettings.Read so /calendar "
                "shows each user's mailbox time zone; the chat's time zone is used until then")


async def next_calendar_page(graph: GraphClient, token: str, page: NextPage) -> CalendarPage:
    """The page after one shown, in the zone and window of the first."""
    session = graph.session(token)
    if not session.is_graph_url(page.next_link):
        raise NotAGraphLink()
    builder = session.sdk.me.calendar_view.with_url(page.next_link)
    request = builder.to_get_request_information(RequestConfiguration(headers=_prefer_headers(page.zone)))
    return _page(await session.send_json(request, PERMISSION), page.zone, page.start, page.end)


async def _first_page(session: GraphSession, day_range: DayRange, zone: Zone) -> CalendarPage:
    start, end = window(day_range, zone)
    query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
        start_date_time=start.isoformat(), end_date_time=end.isoformat(), top=PAGE_SIZE, orderby=["start/dateTime"],
        select=_SELECT)
    request = session.sdk.me.calendar_view.to_get_request_information(
        RequestConfiguration(query_parameters=query, headers=_prefer_headers(zone)))
    return _page(await session.send_json(request, PERMISSION), zone, start, end)


def _calendar_view_url(start: datetime, end: datetime) -> str:
    """The same request as `_first_page`'s, as a `$batch` item's URL."""
    query = {"startDateTime": start.isoformat(), "endDateTime": end.isoformat(), "$top": PAGE_SIZE,
             "$orderby": "start/dateTime", "$select": ",".join(_SELECT)}
    return f"/me/calendarView?{urlencode(query, safe='$,/:')}"


def _prefer(zone: Zone) -> dict[str, str]:
    return {"Prefer": f'outlook.timezone="{zone.graph_name}"'}


def _prefer_headers(zone: Zone) -> HeadersCollection:
    headers = HeadersCollection()
    for name, value in _prefer(zone).items():
        headers.add(name, value)
    return headers


def _page(body: dict[str, Any], zone: Zone, start: datetime, end: datetime) -> CalendarPage:
    events = (_event(item, zone) for item in body.get("value") or [] if isinstance(item, dict))
    first_day, last_day = start.date(), (end - timedelta(microseconds=1)).date()
    return CalendarPage(events=tuple(event for event in events if _on_days(event, first_day, last_day)),
                        time_zone=zone.label, start=start, end=end, next_link=body.get("@odata.nextLink") or None)


def _on_days(event: CalendarEvent, first: date, last: date) -> bool:
    """Timed events overlap the window (Graph chose them); an all-day event is kept only if one of its own dates is
    in the window. Graph matches an all-day event by midnight in the zone it was created in, so a window in another
    zone also brings the day before or after (Microsoft Q&A 970643)."""
    if not event.is_all_day:
        return True
    return event.start.date() <= last and max(event.end.date(), event.start.date() + timedelta(days=1)) > first


def _time(value: Any, zone: Zone, all_day: bool) -> datetime:
    """Graph's `dateTimeTimeZone` as an aware time in `zone`. An all-day event is a date: its `dateTime` is midnight
    of that date whatever `timeZone` says (UTC without Prefer, the Prefer zone or the event's own zone with it), so
    it keeps the date, at midnight in `zone`."""
    value = value if isinstance(value, dict) else {}
    local = datetime.fromisoformat(str(value.get("dateTime") or "1970-01-01T00:00:00")[:19])
    if all_day:
        return datetime.combine(local.date(), time(), zone.tz)
    sent_in = timezones.resolve(value.get("timeZone")) or timezones.UTC
    return local.replace(tzinfo=sent_in.tz).astimezone(zone.tz)


def _event(item: dict[str, Any], zone: Zone) -> CalendarEvent:
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
