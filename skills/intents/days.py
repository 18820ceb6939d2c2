"""The days and times a message names: the calendar's day ranges, windows of the clock, days it cannot show."""

from __future__ import annotations

import re
from functools import cache

from .. import phrases
from .tables import has_cue, matches, starts_with, where_phrases
from .typos import edit_distance, the_only
from .vocabulary import Vocabulary


def unplaced(texts: list[str], vocabulary: Vocabulary) -> bool:
    """A day the calendar has no range for (`yesterday`, `next month`, `the 14th`), but in a range of more than one
    word (`the day after today`); `last` before an event on a day named is no day (`phrases.EVENTS`: `my last meeting
    today`; but `what was my last shift`)."""
    named_day = any(text in vocabulary.range_table for text in texts)
    placed = [(start, start + len(phrase.split())) for start, phrase in
              matches(texts, vocabulary.range_table, vocabulary) if " " in phrase]  # `the day after today`
    return (any(not any(begin <= start and start + size <= end for begin, end in placed)
                and not (texts[start] == "last" and texts[start + 1:start + 2] != []
                         and texts[start + 1] in phrases.EVENTS and named_day)
                for start, size in where_phrases(texts, phrases.UNPLACED_DATES))
            or any(pattern.fullmatch(text) for text in texts for pattern in _date_patterns()))


def day_ranges(texts: list[str], vocabulary: Vocabulary) -> list[str]:
    """The calendar day ranges the words name, in order: a window of the clock is today (`phrases.WINDOW_LEADS`), and
    so is a time of the day when no day is named (`phrases.CLOCK_TIMES`); what comes next on a day named is on that
    day (`the next call today`, `coming up in the next hour`), but for a period after it (`next week`,
    `phrases.PERIODS`). A day's short name that is a word too (`phrases.DAYS_AND_WORDS`: `sun`) is a day after a word
    that names one (`phrases.DAY_BEFORE`: `on sat`) or with a cue of the calendar (`sat meetings`)."""
    table, windowed = vocabulary.range_table, _windows_as_today(_next_named(_near_ranges(texts, vocabulary)))
    named = [(phrase, table[phrase]) for start, phrase in matches(windowed, table, vocabulary)
             if phrase not in phrases.DAYS_AND_WORDS or windowed[start - 1:start] and windowed[start - 1] in
             phrases.DAY_BEFORE or has_cue(texts, phrases.CALENDAR, vocabulary)]
    if {day_range for _, day_range in named} - {"next"} in ({"today"}, {"tomorrow"}):
        named = [(phrase, day_range) for phrase, day_range in named  # `my next call today`: today's next call
                 if day_range != "next" or any(word in phrases.PERIODS for word in phrase.split())]
    return [day_range for _, day_range in named] or (["today"] if _names_a_time(texts) else [])


def _next_named(texts: list[str]) -> list[str]:
    """`texts` with `next`, a word and an event (`phrases.EVENTS`) read as the next event, the word its name (`my next
    committee meeting`: `next meeting`), unless the word names a day (`next friday meeting`)."""
    if "next" not in texts[:-2]:
        return texts
    return [text for i, text in enumerate(texts)
            if not (i > 0 and texts[i - 1] == "next" and texts[i + 1:i + 2] != [] and texts[i + 1] in phrases.EVENTS
                    and text.isalpha() and text not in phrases.OTHERS_POSSESSIVE_EXCEPT)]


def _near_ranges(texts: list[str], vocabulary: Vocabulary) -> list[str]:
    """`texts` with a word of three letters or more one typo from the first of a range of two words before its second
    (`nest meeting`, `nex call`: `next meeting`), read as that first word, even when it is a word of its own the
    matcher does not hold (`nest`): in that place it can only be meant as the range, and read as itself the message
    would be run for another day (today)."""
    firsts = vocabulary.range_firsts
    if firsts.keys().isdisjoint(texts[1:]):
        return texts
    found = list(texts)
    for i in range(len(texts) - 1):
        typed = texts[i]
        if typed not in vocabulary.known and typed.isalpha() and len(typed) >= 3:
            near = the_only(first for first in firsts.get(texts[i + 1], ())
                            if abs(len(first) - len(typed)) <= 1 and edit_distance(typed, first, 1) <= 1)
            found[i] = near or typed
    return found


def _windows_as_today(texts: list[str]) -> list[str]:
    """`texts` with each window of the clock (`the next couple of hours`) one word, `today`; a window of more than
    twelve hours (`the next 48 hours`) is what is coming up, `upcoming`."""
    if phrases.CLOCK_UNITS.isdisjoint(texts):
        return texts
    found, end = list(texts), len(texts)
    for i in range(len(texts) - 1, -1, -1):
        if texts[i] not in phrases.CLOCK_UNITS or i >= end:
            continue
        start, lead, hours = i, False, 0
        while start > 0 and (texts[start - 1] in phrases.WINDOW_LEADS or texts[start - 1] in phrases.WINDOW_COUNTS
                             or texts[start - 1].isdigit()):
            start -= 1
            lead |= texts[start] in phrases.WINDOW_LEADS
            hours = int(texts[start]) if texts[start].isdigit() else hours
        if lead:
            after = next((len(phrase.split()) for phrase in phrases.WINDOW_AFTER
                          if starts_with(texts[i + 1:], phrase)), 0)
            found[start:i + 1 + after] = ["upcoming" if hours > 12 and texts[i].startswith("h") else "today"]
            end = start
    return found


def _names_a_time(texts: list[str]) -> bool:
    """Whether the words name a time of the day (`phrases.CLOCK_TIMES`)."""
    for i, text in enumerate(texts):
        if not (text[:1].isdigit() or text in phrases.CLOCK_TIMES):
            continue
        if clock_pattern().fullmatch(text) or (text.isdigit() and int(text) <= 24 and (
                (i > 0 and texts[i - 1] in phrases.CLOCK_TIME_AFTER)
                or (i + 1 < len(texts) and texts[i + 1] in phrases.CLOCK_TIME_CLOSERS))):
            return True
    return False


@cache
def clock_pattern() -> re.Pattern[str]:
    return re.compile("|".join(phrases.CLOCK_TIMES))


@cache
def _date_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in phrases.UNPLACED_DATE_PATTERNS)
