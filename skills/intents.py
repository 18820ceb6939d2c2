"""Plain words to commands: "what's on my calendar tomorrow?" is `/calendar tomorrow`, "sign me out" is `/logout`.

No language model: the message's words are scored against the cue phrases in `skills/phrases.py` (the one file that
says what the agent understands), and the result is one of
- `Understood`: a command with its arguments, run as if typed;
- `Unclear`: two readings close to each other, so the user is asked which one;
- `NotUnderstood`: nothing clear, or something the agent must not do (a negation, someone else's calendar, deleting a
  file), answered with the help card and one suggestion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from . import phrases

MAX_LENGTH = 300
"""Characters; a request is a sentence, and a long paste must not cost the event loop."""
THRESHOLD = 2
"""A command needs at least this score."""
LEAD = 2
"""…and to lead any other command that reaches the threshold by this much, else the message is ambiguous."""
_LONGEST_PHRASE = max(len(phrase.split()) for cues in [*phrases.CUES.values(), *phrases.RANGES.values()]
                      for phrase in cues)


@dataclass(frozen=True)
class Understood:
    name: str
    args: str = ""


@dataclass(frozen=True)
class Unclear:
    """Two readings; the user picks one."""

    choices: tuple[Understood, Understood]


@dataclass(frozen=True)
class NotUnderstood:
    suggestion: Understood


Meaning = Understood | Unclear | NotUnderstood

DEFAULT_SUGGESTION = Understood(phrases.CALENDAR, "today")


@dataclass(frozen=True)
class _Word:
    typed: str
    """As the user wrote it (kept for a file search)."""
    text: str
    """Lower case, spelling and typos fixed: what cues match."""


def understand(message: str) -> Meaning:
    """What a typed message asks for (see the module docstring). A message longer than any request is not one."""
    if len(message) > MAX_LENGTH:
        return NotUnderstood(DEFAULT_SUGGESTION)
    return _understand(message)


@lru_cache(maxsize=1024)
def _understand(message: str) -> Meaning:
    """Cached: every route's selector asks for the same message."""
    words, someone_elses = _words(message)
    texts = [word.text for word in words]
    if not texts:
        return Understood(phrases.HELP)
    exact = phrases.EXACT.get(" ".join(texts))
    if exact:
        return Understood(exact)
    scores = _scores(texts)
    ranges = _ranges(texts)
    if ranges and not any(scores.values()):
        scores[phrases.CALENDAR] = THRESHOLD  # a time on its own asks for the calendar
    elif ranges:
        scores[phrases.CALENDAR] += 1
    (first, top), (_, second) = scores.most_common(2)
    best = [_reading(name, words, ranges) for name, score in scores.most_common() if score > 0]
    if someone_elses or _not_to_run(texts):
        return NotUnderstood(next((reading for reading in best if reading.name != phrases.LOGOUT), DEFAULT_SUGGESTION))
    if top < THRESHOLD:
        return NotUnderstood(best[0] if best else DEFAULT_SUGGESTION)
    if second >= THRESHOLD and top - second < LEAD:
        return Unclear((best[0], best[1]))
    if first == phrases.CALENDAR and len(set(ranges)) > 1:
        days = list(dict.fromkeys(ranges))
        return Unclear((Understood(phrases.CALENDAR, days[0]), Understood(phrases.CALENDAR, days[1])))
    if first == phrases.CALENDAR and texts[0] == phrases.CALENDAR and not ranges and _unknown(words[1:]):
        return Understood(first, message.split(maxsplit=1)[1])  # `calendar 3/12`: the skill says which ranges it has
    return best[0]


def _unknown(words: list[_Word]) -> bool:
    return any(word.text not in phrases.FILE_QUERY_IGNORES and word.text not in _cue_table() for word in words)


def _reading(name: str, words: list[_Word], ranges: list[str]) -> Understood:
    """The command `name` with the arguments the words give it."""
    if name == phrases.CALENDAR:
        return Understood(name, ranges[0] if ranges else "today")
    if name == phrases.FILES:
        return Understood(name, " ".join(word.typed for word in words if word.text not in phrases.FILE_QUERY_IGNORES))
    return Understood(name)


def _scores(texts: list[str]) -> Counter[str]:
    """Each command's score: cue phrases matched longest first, each word counting for one phrase only."""
    scores: Counter[str] = Counter({name: 0 for name in phrases.CUES})
    table = _cue_table()
    for phrase in _longest_matches(texts, table):
        for name, weight in table[phrase]:
            scores[name] += weight
    return scores


def _ranges(texts: list[str]) -> list[str]:
    """The calendar day ranges the words name, in order."""
    table = _range_table()
    return [table[phrase] for phrase in _longest_matches(texts, table)]


def _longest_matches(texts: list[str], table: Mapping[str, object]) -> list[str]:
    """The phrases of `table` in `texts`, left to right, the longest at each place; a word is in one phrase only."""
    found, start = [], 0
    while start < len(texts):
        for size in range(min(_LONGEST_PHRASE, len(texts) - start), 0, -1):
            candidate = " ".join(texts[start:start + size])
            if candidate in table:
                found.append(candidate)
                start += size
                break
        else:
            start += 1
    return found


def _not_to_run(texts: list[str]) -> bool:
    """A negation, something the agent cannot do, or someone else's availability (`phrases.NOT_TO_RUN`)."""
    line = f" {' '.join(texts)} "
    if any(_phrase_pattern(phrase).search(line) for phrase in phrases.NOT_TO_RUN):
        return True
    start = 0
    while courtesy := next((phrase for phrase in _by_length(phrases.COURTESY) if _starts(texts[start:], phrase)), ""):
        start += len(courtesy.split())
    return any(_starts(texts[start:], phrase) for phrase in phrases.NOT_TO_RUN_FIRST)


def _starts(texts: list[str], phrase: str) -> bool:
    words = phrase.split()
    return texts[:len(words)] == words


@cache
def _by_length(table: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(table, key=lambda phrase: -len(phrase.split())))


@cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = (r"\S+" if word == "*" else re.escape(word) for word in phrase.split())
    return re.compile(rf" {' '.join(words)} ")


@cache
def _cue_table() -> dict[str, tuple[tuple[str, int], ...]]:
    table: dict[str, list[tuple[str, int]]] = {}
    for name, cues in phrases.CUES.items():
        for phrase, weight in cues.items():
            table.setdefault(phrase, []).append((name, weight))
    return {phrase: tuple(entries) for phrase, entries in table.items()}


@cache
def _range_table() -> dict[str, str]:
    return {phrase: day_range for day_range, words in phrases.RANGES.items() for phrase in words}


@cache
def _vocabulary() -> frozenset[str]:
    """The words typos are fixed towards: every word of five letters or more in a cue, a range or a phrase not to run
    (a typo of `cancel` must not slip through)."""
    everything = [*_cue_table(), *_range_table(), *phrases.NOT_TO_RUN, *phrases.NOT_TO_RUN_FIRST]
    return frozenset(word for phrase in everything for word in phrase.split() if len(word) >= 5 and word.isalpha())


_EDGE_PUNCTUATION = '.,;:!?"()[]{}<>«»“”…*_~`'


def _words(message: str) -> tuple[list[_Word], bool]:
    """The message's words, and whether it speaks of someone else's things (`megan's calendar`)."""
    words: list[_Word] = []
    someone_elses = False
    for token in message.replace("’", "'").replace("‘", "'").split():
        token = token.strip(_EDGE_PUNCTUATION)
        lower = token.lower()
        if lower in phrases.SPELLINGS:
            expansion = phrases.SPELLINGS[lower].split()
            words += [_Word(token if len(expansion) == 1 else part, part) for part in expansion]
            continue
        if lower.endswith("'s"):
            token, lower = token[:-2], lower[:-2]
            someone_elses |= lower not in phrases.OTHERS_POSSESSIVE_EXCEPT
        if token:
            words.append(_Word(token, _fix_typo(lower)))
    return words, someone_elses


@lru_cache(maxsize=4096)
def _fix_typo(word: str) -> str:
    if len(word) < 5 or word in _vocabulary() or not word.isalpha():
        return word
    allowed = 2 if len(word) >= 8 else 1
    for known in _vocabulary_near(len(word), allowed):
        if known.startswith(word) or word.startswith(known):
            continue  # `shared` is not a typo of `share`: another form of the word is another word
        if known[0] != word[0] and known[-1] != word[-1]:
            continue  # a typo keeps the first or the last letter: cheaper than the distance, and safer
        if _distance(word, known, allowed) <= allowed:
            return known
    return word


@cache
def _vocabulary_near(length: int, allowed: int) -> tuple[str, ...]:
    return tuple(sorted(known for known in _vocabulary() if abs(len(known) - length) <= allowed))


def _distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, the optimal string alignment distance;
    anything above `limit` is reported as `limit + 1`."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        rows.append(row)
    return rows[-1][-1]
