"""Finding the phrases of a table in a message's words: longest first, at the start only, or with a name for `*`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from .. import phrases
from .vocabulary import Vocabulary


def last_but_courtesy(texts: list[str]) -> str:
    """The last word before any that close a request politely (`phrases.CLOSING_COURTESY`: `calendar next please`)."""
    return without_closing_courtesy(texts)[-1]


def without_closing_courtesy(texts: list[str]) -> list[str]:
    """The words before any that close a request politely (`me pls`), but the first."""
    end = len(texts)
    while end > 1 and texts[end - 1] in phrases.CLOSING_COURTESY:
        end -= 1
    return texts[:end]


def plain_contains(texts: list[str], table: tuple[str, ...]) -> bool:
    return bool(_table_patterns(table)[0].search(f" {' '.join(texts)} "))


def has_cue(texts: list[str], name: str, vocabulary: Vocabulary) -> bool:
    """Whether a cue of the command `name` is in `texts`."""
    table = vocabulary.cue_table
    return any(cue == name for phrase in longest_matches(texts, table, vocabulary) for cue, _ in table[phrase])


def longest_matches(texts: list[str], table: Mapping[str, object], vocabulary: Vocabulary) -> list[str]:
    return [phrase for _, phrase in matches(texts, table, vocabulary)]


def matches(texts: list[str], table: Mapping[str, object], vocabulary: Vocabulary) -> list[tuple[int, str]]:
    """The phrases of `table` in `texts` and where each starts, left to right, the longest at each place; a word is in
    one phrase only."""
    found: list[tuple[int, str]] = []
    start = 0
    longest = vocabulary.longest_by_first(table)
    while start < len(texts):
        for size in range(min(longest.get(texts[start], 0), len(texts) - start), 0, -1):
            candidate = " ".join(texts[start:start + size])
            if candidate in table:
                found.append((start, candidate))
                start += size
                break
        else:
            start += 1
    return found


def starts_with(texts: list[str], phrase: str) -> bool:
    words = phrase.split()
    return texts[:len(words)] == words


def first_phrase(texts: list[str], table: tuple[str, ...]) -> str:
    """The longest phrase of `table` `texts` start with, or `""`."""
    return next((phrase for phrase in _by_first_word(table).get(texts[0], ()) if starts_with(texts, phrase)), "") if (
        texts) else ""


@cache
def _by_first_word(table: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The phrases of `table` by their first word, longest first."""
    found: dict[str, list[str]] = {}
    for phrase in sorted(table, key=lambda phrase: -len(phrase.split())):
        found.setdefault(phrase.split()[0], []).append(phrase)
    return {word: tuple(phrases) for word, phrases in found.items()}


def contains(texts: list[str], table: tuple[str, ...], vocabulary: Vocabulary) -> bool:
    """Whether a phrase of `table` is in `texts`, a `*` standing for a name (a word `phrases.KNOWN` does not hold, nor
    a time: `is my 3pm free`)."""
    line = f" {' '.join(texts)} "
    plain, starred = _table_patterns(table)
    return bool(plain.search(line)) or any(word not in vocabulary.known and not word[:1].isdigit()
                                           for pattern in starred for word in pattern.findall(line))


@cache
def _table_patterns(table: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
    """One pattern for the phrases of `table` without a `*`, and one for each with one, whose group is the word the
    `*` stands for (overlapping: `is * free` finds every word between)."""
    def pattern(phrase: str) -> str:
        return " ".join(r"(\S+)" if word == "*" else re.escape(word) for word in phrase.split())

    plain = "|".join(pattern(phrase) for phrase in table if "*" not in phrase.split())
    return (re.compile(rf" (?:{plain}) "),
            tuple(re.compile(rf"(?= {pattern(phrase)} )") for phrase in table if "*" in phrase.split()))


def where_phrases(texts: list[str], table: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where each phrase of `table` stands in `texts`, overlapping or not, and how many words it has."""
    found: list[tuple[int, int]] = []
    for phrase in table:
        words = phrase.split()
        found += [(i, len(words)) for i in range(len(texts) - len(words) + 1) if texts[i:i + len(words)] == words]
    return found
