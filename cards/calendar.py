"""The `/calendar` card: a day or a week of events in the user's time zone, with Join and More buttons."""

from __future__ import annotations

import re
from datetime import date, timedelta

from graph.models import CalendarEvent, CalendarPage

from .common import Card, Element, adaptive_card, command_button, more_button, open_url_button, text_block

COMMAND = "/calendar"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def day_range(page: CalendarPage) -> str:
    """`Sun 22 Nov 2026`, or `Mon 23 Nov 2026 – Sun 29 Nov 2026`: the window is [start, end)."""
    first, last = page.start.date(), (page.end - timedelta(microseconds=1)).date()
    return _day(first) if last <= first else f"{_day(first)} – {_day(last)}"


def time_range(event: CalendarEvent, day: date | None = None) -> str:
    """`09:00–09:30` or `All day`; a start or end on another day than `day` (the one shown) carries its weekday."""
    if event.is_all_day:
        days = (event.end.date() - event.start.date()).days
        return "All day" if days <= 1 else f"All day, {days} days"
    day = day or event.start.date()
    start = f"{event.start:%H:%M}" if event.start.date() == day else f"{event.start:%a %H:%M}"
    end = f"{event.end:%H:%M}" if event.end.date() == day else f"{event.end:%a %H:%M}"
    return f"{start}–{end}"


def _details(event: CalendarEvent) -> str:
    organizer = event.organizer_name or event.organizer_mail
    return " · ".join(filter(None, (event.location, organizer and f"Organizer: {organizer}")))


CANCELED = "Canceled: "
"""Exchange's own word for it: a cancelled meeting reaches the attendees' calendars with its subject already
prefixed so (Microsoft Learn is silent on it; the prefix is in the organizer's language, and only the English one,
either spelling, is recognised here)."""


def _subject(event: CalendarEvent) -> str:
    """The subject, marked canceled once: Exchange's prefix is kept, ours added only where it is missing."""
    subject = event.subject or "(No subject)"
    if event.is_cancelled and not subject.lower().startswith(("canceled:", "cancelled:")):
        return f"{CANCELED}{subject}"
    return subject


def _event(event: CalendarEvent, day: date) -> Element:
    items = [text_block(_subject(event), weight="Bolder", color="Attention" if event.is_cancelled else "Default")]
    if details := _details(event):
        items.append(text_block(details, isSubtle=True, spacing="None"))
    if event.join_url and not event.is_cancelled:
        items.append({"type": "ActionSet", "spacing": "Small", "actions": [open_url_button("Join", event.join_url)]})
    # `Fri 01:00` stays on one line, so the narrow time column breaks after the dash.
    when = re.sub(r"(?<=[a-z]) (?=\d)", "\u00a0", time_range(event, day))
    return {"type": "ColumnSet", "separator": True, "columns": [
        {"type": "Column", "width": "90px", "items": [text_block(when, isSubtle=event.is_cancelled)]},
        {"type": "Column", "width": "stretch", "items": items},
    ]}


def _spans_days(page: CalendarPage) -> bool:
    return page.end - page.start > timedelta(days=1)


def by_day(page: CalendarPage) -> list[tuple[date, list[CalendarEvent]]]:
    """The page's events under the day each is shown on: its own date (an all-day event's is its date, in any
    zone), or the window's first day for one that began before it. All-day events head their day."""
    first = page.start.date()
    days: dict[date, list[CalendarEvent]] = {}
    for event in page.events:
        days.setdefault(max(event.start.date(), first), []).append(event)
    return [(day, sorted(events, key=lambda event: not event.is_all_day)) for day, events in sorted(days.items())]


def calendar_card(page: CalendarPage) -> Card:
    body: list[Element] = [
        text_block("Your calendar", size="Large", weight="Bolder"),
        text_block(f"{day_range(page)} · {page.time_zone}", isSubtle=True, spacing="None"),
    ]
    if not page.events:
        body.append(text_block(f"Nothing on your calendar for {day_range(page)}."))
    for day, events in by_day(page):
        if _spans_days(page):
            body.append(text_block(_day(day), weight="Bolder", spacing="Medium"))
        body += [_event(event, day) for event in events]
    more = page.more()
    actions = [more_button(COMMAND, more)] if more else []
    actions += [command_button(title, f"{COMMAND} {when}") for title, when in
                (("Today", "today"), ("Tomorrow", "tomorrow"), ("This week", "week"))]
    return adaptive_card(body, actions)


def _event_line(event: CalendarEvent, day: date | None) -> str:
    """`day`: the day it is listed under, in a view of several days."""
    when = f"{_day(day)} {time_range(event, day)}" if day else time_range(event)
    parts = [f"- {when}: {_subject(event)}", _details(event)]
    if event.join_url and not event.is_cancelled:
        parts.append(f"Join: {event.join_url}")
    return " · ".join(filter(None, parts))


def calendar_text(page: CalendarPage) -> str:
    header = f"Your calendar, {day_range(page)} ({page.time_zone}):"
    if not page.events:
        return f"{header}\nNothing on your calendar for {day_range(page)}."
    lines = [header, *(_event_line(event, day if _spans_days(page) else None) for day, events in by_day(page)
                       for event in events)]
    if page.next_link:
        lines.append("There are more events than shown here.")
    return "\n".join(lines)
