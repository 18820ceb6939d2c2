"""The /calendar card."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.calendar import calendar_card, calendar_text, time_range
from graph.calendar import next_page_from
from graph.models import CalendarEvent, CalendarPage
from tests.cards.harness import actions, sent, texts

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 11, 23, tzinfo=BERLIN)
NEXT = "https://graph.microsoft.com/v1.0/me/calendarView?$skiptoken=abc"
JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting"
STANDUP = CalendarEvent(
    id="1", subject="Standup", start=DAY.replace(hour=9), end=DAY.replace(hour=9, minute=30), location="Room 1",
    organizer_name="Miriam Graham", join_url=JOIN, is_online=True,
)
HOLIDAY = CalendarEvent(id="2", subject="Holiday", start=DAY, end=DAY + timedelta(days=1), is_all_day=True)
CANCELLED = CalendarEvent(id="3", subject="Budget review", start=DAY.replace(hour=14), end=DAY.replace(hour=15),
                          join_url=JOIN, is_cancelled=True)
BARE = CalendarEvent(id="4", subject="", start=DAY.replace(hour=16), end=DAY.replace(hour=17))


def page(*events: CalendarEvent, days: int = 1, next_link: str | None = None) -> CalendarPage:
    return CalendarPage(events=events, time_zone="Europe/Berlin", start=DAY, end=DAY + timedelta(days=days),
                        next_link=next_link)


def shown(calendar: CalendarPage) -> dict:
    return sent(calendar_card(calendar), calendar_text(calendar))


PAGES = {"full": page(HOLIDAY, STANDUP, CANCELLED, BARE), "sparse": page(BARE), "empty": page(),
         "week": page(STANDUP, HOLIDAY, days=7), "more": page(STANDUP, next_link=NEXT)}


@pytest.mark.parametrize("calendar", PAGES.values(), ids=PAGES.keys())
def test_the_calendar_card_is_valid(calendar: CalendarPage) -> None:
    shown(calendar)


def test_the_header_names_the_day_and_time_zone() -> None:
    assert "Mon 23 Nov 2026 · Europe/Berlin" in texts(shown(page()))


def test_the_header_of_a_week_names_its_first_and_last_day() -> None:
    assert "Mon 23 Nov 2026 – Sun 29 Nov 2026 · Europe/Berlin" in texts(shown(page(days=7)))


def test_an_empty_day_says_nothing_is_on_the_calendar() -> None:
    assert "Nothing on your calendar for Mon 23 Nov 2026." in texts(shown(page()))


def test_an_event_shows_time_subject_location_and_organizer() -> None:
    shown_texts = texts(shown(page(STANDUP)))
    assert {"09:00–09:30", "Standup", "Room 1 · Organizer: Miriam Graham"} <= set(shown_texts)


def test_an_all_day_event_is_labelled() -> None:
    assert "All day" in texts(shown(page(HOLIDAY)))


def test_a_multi_day_all_day_event_says_how_long() -> None:
    assert time_range(CalendarEvent("5", "Trip", DAY, DAY + timedelta(days=3), is_all_day=True)) == "All day, 3 days"


def test_an_event_ending_the_next_day_names_that_day() -> None:
    late = CalendarEvent("6", "Release", DAY.replace(hour=22), DAY.replace(hour=23) + timedelta(hours=2))
    assert time_range(late) == "22:00–Tue 01:00"


def test_an_event_that_began_the_day_before_names_its_start_day() -> None:
    overnight = CalendarEvent("7", "Night shift", DAY - timedelta(minutes=30), DAY + timedelta(minutes=15))
    assert time_range(overnight, DAY.date()) == "Sun 23:30–00:15"


def test_an_online_meeting_has_a_join_button() -> None:
    assert [(a["title"], a["url"]) for a in actions(shown(page(STANDUP))) if a["type"] == "Action.OpenUrl"] == [
        ("Join", JOIN)]


def test_an_event_without_a_join_url_has_no_join_button() -> None:
    assert "Join" not in [a["title"] for a in actions(shown(page(BARE)))]


def test_a_cancelled_event_is_marked_and_not_joinable() -> None:
    card = shown(page(CANCELLED))
    assert "Canceled: Budget review" in texts(card) and "Join" not in [a["title"] for a in actions(card)]


@pytest.mark.parametrize("subject", ["Canceled: Vendor demo", "Cancelled: Vendor demo", "CANCELED: Vendor demo"])
def test_a_subject_exchange_already_marked_canceled_is_marked_once(subject: str) -> None:
    event = CalendarEvent(id="8", subject=subject, start=DAY.replace(hour=10), end=DAY.replace(hour=11),
                          is_cancelled=True)
    shown_texts = texts(shown(page(event)))
    assert subject in shown_texts and " ".join(shown_texts).lower().count("cancel") == 1
    assert calendar_text(page(event)).lower().count("cancel") == 1


def test_an_event_without_a_subject_says_so() -> None:
    assert "(No subject)" in texts(shown(page(BARE)))


def test_a_week_groups_events_under_their_day() -> None:
    shown_texts = texts(shown(page(HOLIDAY, STANDUP, CalendarEvent("7", "Retro", DAY + timedelta(days=2, hours=10),
                                                                   DAY + timedelta(days=2, hours=11)), days=7)))
    days = [t for t in shown_texts if t in ("Mon 23 Nov 2026", "Wed 25 Nov 2026")]
    assert days == ["Mon 23 Nov 2026", "Wed 25 Nov 2026"]


def test_a_week_shows_an_all_day_event_on_its_date_under_its_day_first() -> None:
    retro = CalendarEvent("7", "Retro", DAY + timedelta(days=2, hours=10), DAY + timedelta(days=2, hours=11))
    offsite = CalendarEvent("9", "Offsite", DAY + timedelta(days=2), DAY + timedelta(days=3), is_all_day=True)
    shown_texts = texts(shown(page(retro, offsite, days=7)))
    assert shown_texts.index("Wed 25 Nov 2026") < shown_texts.index("Offsite") < shown_texts.index("Retro")


def test_an_event_that_began_before_the_window_is_shown_on_its_first_day() -> None:
    trip = CalendarEvent("10", "Trip", DAY - timedelta(days=1), DAY + timedelta(days=2), is_all_day=True)
    shown_texts = texts(shown(page(trip, STANDUP, days=7)))
    headings = [text for text in shown_texts if text.endswith("Nov 2026") and "–" not in text]
    assert headings == ["Mon 23 Nov 2026"] and "Sun 22 Nov 2026" not in " ".join(shown_texts)


def test_more_carries_the_next_link_with_its_window_and_zone_and_the_command() -> None:
    [more] = [a for a in actions(shown(page(STANDUP, days=7, next_link=NEXT))) if a["title"] == "More"]
    assert more["data"] == {"command": "/calendar", "nextLink": NEXT, "timeZone": "Europe/Berlin",
                            "start": DAY.isoformat(), "end": (DAY + timedelta(days=7)).isoformat()}
    following = next_page_from(more["data"])
    assert following and (following.next_link, following.start, following.end) == (NEXT, DAY, DAY + timedelta(days=7))


def test_the_last_page_has_no_more_button() -> None:
    assert "More" not in [a["title"] for a in actions(shown(page(STANDUP)))]


def test_command_buttons_send_today_tomorrow_and_week() -> None:
    commands = [a["data"]["command"] for a in actions(shown(page())) if a["type"] == "Action.Submit"]
    assert commands == ["/calendar today", "/calendar tomorrow", "/calendar week"]


def test_the_fallback_text_carries_the_events() -> None:
    text = calendar_text(page(HOLIDAY, STANDUP, CANCELLED))
    assert all(fact in text for fact in ("Europe/Berlin", "All day: Holiday", "09:00–09:30: Standup", "Room 1",
                                         f"Join: {JOIN}", "Canceled: Budget review"))


def test_the_fallback_text_of_an_empty_day_says_so() -> None:
    assert "Nothing on your calendar" in calendar_text(page())


def test_the_fallback_text_says_when_there_are_more_events() -> None:
    assert "more events" in calendar_text(page(STANDUP, next_link=NEXT))
