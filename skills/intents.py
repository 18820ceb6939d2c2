"""Plain words to commands: "what's on my calendar tomorrow?" is `/calendar tomorrow`, "sign me out" is `/logout`.

No language model: the message's words are scored against the cue phrases of the command records the app was given
(`skills/catalog.py`; a `Vocabulary` of them, with the tables `skills/phrases.py` shares among all commands), and the
result is one of
- `Understood`: a command with its arguments, run as if typed;
- `Unclear`: two readings close to each other, or two requests in one message (`my profile and my calendar`), so
  the user is asked which one;
- `NotUnderstood`: nothing clear, or something the agent must not do (a negation, someone else's calendar, deleting a
  file, a day the calendar cannot show), answered with the help card and, when something in the message points to a
  command, that command as a suggestion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache

from . import catalog, phrases
from .catalog import CommandRecord

MAX_LENGTH = 300
"""Characters; a request is a sentence, and a long paste must not cost the event loop."""
THRESHOLD = 2
"""A command needs at least this score."""
LEAD = 2
"""…and to lead any other command that reaches the threshold by this much, else the message is ambiguous."""
class Vocabulary:
    """What the matcher knows of a set of command records: each record's cues, the cues that count only alone and the
    calendar's day ranges (`phrases.cues_of`, …), with the tables made from them and from the shared tables of
    `phrases` (the words typos are fixed towards, the words that are never a name). Made once per set of records
    (`Vocabulary.of`): a command passed to the app is reached by plain words its record's cues name."""

    def __init__(self, commands: Sequence[CommandRecord]) -> None:
        self.cues: Mapping[str, Mapping[str, int]] = phrases.cues_of(commands)
        self.when_alone: frozenset[str] = phrases.when_alone_of(commands)
        self.ranges: Mapping[str, tuple[str, ...]] = phrases.ranges_of(commands)
        self._near: dict[tuple[int, str, str], tuple[str, ...]] = {}
        self._longest_by_first: dict[int, tuple[Mapping[str, object], dict[str, int]]] = {}

    @staticmethod
    def of(commands: Sequence[CommandRecord]) -> Vocabulary:
        """The vocabulary of these records, made once for each tuple of them (the records are not hashable: their
        identities are the key, and the records are kept so none is reused)."""
        key = tuple(id(record) for record in commands)
        if key not in _VOCABULARIES:
            _VOCABULARIES[key] = (tuple(commands), Vocabulary(commands))
        return _VOCABULARIES[key][1]

    @cached_property
    def cue_table(self) -> dict[str, tuple[tuple[str, int], ...]]:
        table: dict[str, list[tuple[str, int]]] = {}
        for name, cues in self.cues.items():
            for phrase, weight in cues.items():
                table.setdefault(phrase, []).append((name, weight))
        return {phrase: tuple(entries) for phrase, entries in table.items()}

    @cached_property
    def range_table(self) -> dict[str, str]:
        return {phrase: day_range for day_range, words in self.ranges.items() for phrase in words}

    @cached_property
    def words(self) -> frozenset[str]:
        """The words typos are fixed towards: every word of four letters or more in a cue, a range, a phrase not to
        run, an action, a day the calendar cannot show, a thing the agent does not read (a typo of `cancel`,
        `yesterday` or `tasks` must not slip through) or a unit of the clock, the longer words a file search leaves
        out (`recnt files` is not a search), and cues of two words typed as one (`logoff`)."""
        everything = [*self.cue_table, *self.range_table, *phrases.NOT_TO_RUN, *phrases.NOT_TO_RUN_FIRST,
                      *phrases.ACTIONS, *phrases.UNPLACED_DATES, *phrases.CLOCK_UNITS, *phrases.NOT_READ]
        return frozenset({*(word for phrase in everything for word in phrase.split()
                            if len(word) >= 4 and word.isalpha()),
                          *(word for word in phrases.FILE_QUERY_IGNORES if len(word) >= 6), *self.run_together})

    @cached_property
    def run_together(self) -> dict[str, str]:
        """Cues and ranges of two words or more, of three letters or more each, by how they are written run together
        (`logoff`: `log off`)."""
        return {phrase.replace(" ", ""): phrase for phrase in [*self.cue_table, *self.range_table]
                if " " in phrase and all(len(word) >= 3 and word.isalpha() for word in phrase.split())}

    @cached_property
    def known(self) -> frozenset[str]:
        """Every word the matcher holds: never a name, never a typo."""
        tables = [self.cue_table, self.range_table, phrases.NOT_TO_RUN, phrases.NOT_TO_RUN_FIRST, phrases.COURTESY,
                  phrases.UNPLACED_DATES, phrases.SPELLINGS.values(), phrases.ACTIONS, phrases.ACTIONS_NOT_ASKED_AFTER,
                  phrases.OTHERS_POSSESSIVE_EXCEPT, phrases.OTHERS, phrases.OTHERS_BEFORE_PERSONAL, phrases.PERSONAL,
                  phrases.NAME_AFTER, phrases.NOT_NEGATING, phrases.POSSESSIVE_AFTER,
                  phrases.FILE_QUERY_IGNORES, phrases.KNOWN, phrases.CLOCK_UNITS, phrases.WINDOW_LEADS,
                  phrases.WINDOW_COUNTS, phrases.WINDOW_AFTER, phrases.CLOCK_TIME_AFTER, phrases.CLOCK_TIME_CLOSERS,
                  phrases.NOT_READ, phrases.FILE_KINDS, phrases.PEOPLE_OF_THE_PROFILE, phrases.SHOWN_OF_THEM,
                  phrases.WHEREABOUTS, phrases.AUTHORED, phrases.OTHER_AUTHORS, phrases.SEARCH_LEADS,
                  phrases.NOT_A_THING, phrases.DAY_BEFORE, phrases.WHOSE_BEFORE,
                  phrases.READ_OF_SOMEONE, phrases.BEFORE_A_THING, phrases.THING_BEFORE]
        return frozenset(word for table in tables for phrase in table for word in phrase.split())

    @cached_property
    def cue_or_range_table(self) -> dict[str, object]:
        return {**self.cue_table, **self.range_table}

    def longest_by_first(self, table: Mapping[str, object]) -> dict[str, int]:
        """Words in the longest phrase of `table` by its first word (a phrase is looked up only where one may start);
        `table` is one of this vocabulary's, kept as long as it is."""
        key = id(table)
        if key not in self._longest_by_first:
            longest: dict[str, int] = {}
            for phrase in table:
                words = phrase.split()
                longest[words[0]] = max(longest.get(words[0], 0), len(words))
            self._longest_by_first[key] = (table, longest)
        return self._longest_by_first[key][1]

    @cached_property
    def range_firsts(self) -> dict[str, tuple[str, ...]]:
        """The first words of the ranges of two words, of four letters or more, by the second (`meeting`: `next`)."""
        firsts: dict[str, set[str]] = {}
        for phrase in self.range_table:
            words = phrase.split()
            if len(words) == 2 and len(words[0]) >= 4 and words[0].isalpha():
                firsts.setdefault(words[1], set()).add(words[0])
        return {second: tuple(sorted(found)) for second, found in firsts.items()}

    @cached_property
    def one_word_cues(self) -> tuple[str, ...]:
        return tuple(sorted(phrase for phrase in self.cue_table if phrase.isalpha()))

    def near(self, length: int, first: str, last: str) -> tuple[str, ...]:
        """The words a typo of a word this long, with this first and last letter, may be: a typo keeps the first or
        the last letter (cheaper than the distance, and safer) and changes the length by no more typos than it may
        have."""
        key = (length, first, last)
        if key not in self._near:
            allowed = 2 if length >= 8 else 1
            self._near[key] = tuple(sorted(known for known in self.words if abs(len(known) - length) <= allowed
                                           and (known[0] == first or known[-1] == last)))
        return self._near[key]

    @cached_property
    def dropped(self) -> dict[str, str]:
        """Words of five letters by what they are with one letter dropped but the last (`fils`: `files`)."""
        by_typo: dict[str, str] = {}
        for known in sorted(word for word in self.words if len(word) == 5):
            for i in range(len(known) - 1):
                by_typo.setdefault(known[:i] + known[i + 1:], known)
        return by_typo


_VOCABULARIES: dict[tuple[int, ...], tuple[tuple[CommandRecord, ...], Vocabulary]] = {}
DEFAULT = Vocabulary.of(catalog.COMMANDS)
"""The vocabulary of the agent's own commands."""


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
    suggestion: Understood | None = None
    """Only a command a cue or an argument in the message points to: an unrelated guess does not help."""
    unsupported: bool = False
    """The message asks for something the agent does not do (`block 2pm for focus time`): the answer says so."""


Meaning = Understood | Unclear | NotUnderstood


@dataclass(frozen=True)
class _Word:
    typed: str
    """As the user wrote it (kept for a file search)."""
    text: str
    """Lower case, spelling and typos fixed: what cues match."""
    ends_clause: bool = False
    """Typed with a comma, a semicolon or a full stop after it: another request may follow."""


def understand(message: str, vocabulary: Vocabulary = DEFAULT) -> Meaning:
    """What a typed message asks for (see the module docstring), in the words of `vocabulary`'s commands (the agent's
    own by default). A message longer than any request is not one."""
    if len(message) > MAX_LENGTH:
        return NotUnderstood()
    return _understand(message, vocabulary)


@lru_cache(maxsize=1024)
def _understand(message: str, vocabulary: Vocabulary) -> Meaning:
    """Cached: every route's selector asks for the same message (a vocabulary is hashed by its identity)."""
    words, someone_elses = _words(message, vocabulary)
    words = _shown_to_me(words, vocabulary)
    texts = [word.text for word in words]
    if not texts:
        return Understood(phrases.HELP)
    bare = _without_courtesy(words)
    exact = phrases.EXACT.get(" ".join(word.text for word in bare))
    if exact:
        return Understood(exact)
    ranges = _ranges(texts, vocabulary)
    scores = _scores(texts, ranges, vocabulary)
    if ranges and not any(scores.values()):
        if not _about_something_else(texts, vocabulary):
            scores[phrases.CALENDAR] = THRESHOLD  # a time on its own asks for the calendar
    elif ranges:
        scores[phrases.CALENDAR] += 1
    if not ranges and _last_but_courtesy(texts) == "next" and scores[phrases.CALENDAR] >= THRESHOLD:
        ranges = ["next"]  # `where do i have to be next`, `calendar next please`
    thing = _named_thing(words, len(words) - len(bare), vocabulary)
    if thing is not None:  # `find the sign out sheet`: a file search, whatever its name holds
        scores = Counter({name: 0 for name in scores} | {phrases.FILES: THRESHOLD + LEAD})
    (first, top), (_, second) = scores.most_common(2)
    best = [_reading(name, words, ranges, vocabulary, thing) for name, score in scores.most_common() if score > 0]
    if _not_read(texts):
        return NotUnderstood(None, unsupported=True)  # nothing the agent reads is to suggest
    unsupported = bool(_actions(words, vocabulary, thing))
    if (someone_elses or unsupported or _not_to_run(texts, [word.text for word in bare], vocabulary)
            or (first == phrases.FILES and _made_by_someone(words, vocabulary))
            or _searches_no_file([word.text for word in bare])):
        return NotUnderstood(next((reading for reading in best if reading.name != phrases.LOGOUT), None), unsupported)
    if top < THRESHOLD:
        return NotUnderstood(best[0] if best else None)
    if first in (phrases.ME, phrases.CALENDAR) and (_their_day(texts, ranges)
                                                    or _someone_not_profiled(texts, vocabulary)
                                                    or _where_another_belongs(texts)
                                                    or _reports_of_another(texts)):
        return NotUnderstood()  # the day of someone the profile names, or anything of another: not the user's
    if len(requests := _requests(words, vocabulary)) > 1:
        return Unclear((requests[0], requests[1]))
    if second >= THRESHOLD and top - second < LEAD:
        return Unclear((best[0], best[1]))
    if first in (phrases.ME, phrases.CALENDAR) and (_names_someone(texts, vocabulary)
                                                    or _a_name_typed(words, vocabulary)):
        return NotUnderstood(best[0])
    if (first == phrases.CALENDAR and bare[0].text == phrases.CALENDAR and not ranges
            and _as_typed(bare[1:], vocabulary)):
        return Understood(first, " ".join(word.typed for word in bare[1:] if word.typed))  # the skill says which
    if first == phrases.CALENDAR and _unplaced(texts, vocabulary):
        return NotUnderstood(best[0])
    if first == phrases.CALENDAR and len(set(ranges)) > 1:
        days = list(dict.fromkeys(ranges))
        return Unclear((Understood(phrases.CALENDAR, days[0]), Understood(phrases.CALENDAR, days[1])))
    return best[0]


def _about_something_else(texts: list[str], vocabulary: Vocabulary) -> bool:
    """Whether a message with a day or a time and no cue is about something else than the calendar: the value of a
    thing asked (`phrases.VALUE_QUESTIONS`) in words the matcher does not know, nor forms of one (`what's the share
    price today`; but `is the retro tomorrow` asks of an event, and `how packed is this week`, `my sched today` are
    the calendar in other words), or a farewell (`phrases.FAREWELLS`: `see you at 4`)."""
    if _plain_contains(texts, phrases.FAREWELLS):
        return True
    line = f" {' '.join(texts)} "
    return any(f" {question} " in line for question in phrases.VALUE_QUESTIONS) and any(
        text.isalpha() and text not in vocabulary.known and not _a_form_of_known(text, vocabulary)
        and "the" in texts[max(i - 2, 0):i] for i, text in enumerate(texts))


def _last_but_courtesy(texts: list[str]) -> str:
    """The last word before any that close a request politely (`phrases.CLOSING_COURTESY`: `calendar next please`)."""
    end = len(texts)
    while end > 1 and texts[end - 1] in phrases.CLOSING_COURTESY:
        end -= 1
    return texts[end - 1]


def _shown_to_me(words: list[_Word], vocabulary: Vocabulary) -> list[_Word]:
    """`share me`, `send me`, `share with me` (`phrases.GIVING`) is `show me` when nobody else is given anything
    (`send me and megan`, `share the deck with megan`) and what is given is something there is (`my calendar`, `the
    budget file`), not something to make (`phrases.TO_MAKE`: `send me a reminder`): the user asks to see, not to
    send. So is `kindly share` given to nobody (`phrases.GIVING_ASKED_AFTER`: `kindly share my contact details`)."""
    texts = [word.text for word in words]
    if phrases.GIVING.isdisjoint(texts):
        return words
    for i, text in enumerate(texts):
        me = i + 1 + (texts[i + 1:i + 2] == ["with"])
        if text in phrases.GIVING and texts[me:me + 1] == ["me"] and not phrases.TO_MAKE.intersection(
                texts[me + 1:me + 2]) and not any(
                texts[j] in phrases.GIVEN_TO
                and (texts[j + 1] in phrases.OTHERS or texts[j + 1] not in vocabulary.known)
                for j in range(me + 1, len(texts) - 1)):
            return [*words[:i], replace(words[i], text="show"), *words[me:]]
        if (text in phrases.GIVING and texts[i - 1:i] != [] and texts[i - 1] in phrases.GIVING_ASKED_AFTER
                and not phrases.TO_MAKE.intersection(texts[i + 1:i + 2])
                and phrases.GIVEN_TO.isdisjoint(texts[i + 1:])):
            return [*words[:i], replace(words[i], text="show"), *words[i + 1:]]  # `kindly share my calendar`
    return words


def _named_thing(words: list[_Word], start: int, vocabulary: Vocabulary) -> int | None:
    """Where the thing a file search names starts, when the message (from `start`, after its courtesy words) starts
    with a word that searches and `the` (`phrases.SEARCH_LEADS`, `phrases.THING_STARTS`: `find the profile photo`)
    and that thing has a word of its own, not another command's cue, a range or a word a search leaves out (`find the
    next meeting` names nothing), nor only whose it is (`phrases.WHOSE_BEFORE`: `find the profile of megan`, but `the
    sign in sheet for visitors` is a kind of file); else None."""
    texts = [word.text for word in words]
    lead = _first_phrase(texts[start:], phrases.SEARCH_LEADS)
    where = not lead and texts[start:start + 1] == ["where"] and bool(
        lead := _first_phrase(texts[start:], phrases.WHERE_LEADS))
    at = start + len(lead.split())
    if not lead or texts[at:at + 1] == [] or texts[at] not in phrases.THING_STARTS:
        return None
    end = _thing_end(words, at + 1)
    cued = {i for begin, phrase in _matches(texts, vocabulary.cue_or_range_table, vocabulary)
            if any(name != phrases.FILES for name, _ in vocabulary.cue_table.get(phrase, ((phrases.CALENDAR, 0),)))
            for i in range(begin, begin + len(phrase.split()))}
    own = [i for i in range(at + 1, end)
           if i not in cued and texts[i] not in phrases.FILE_QUERY_IGNORES and texts[i] not in phrases.NEGATIONS]
    whose = [i for i in own if texts[i - 1] in phrases.WHOSE_BEFORE]
    kind = not phrases.FILE_KINDS.isdisjoint(texts[at + 1:end])
    named = len(own) > len(whose) or (bool(own) and kind) or (
        end - 1 > at + 1 and _last_but_courtesy(texts[at + 1:end]) in phrases.FILE_KINDS)  # `the sign out sheet`
    nouns = [i for i in range(at + 2, end) if texts[i] in phrases.FILE_QUERY_NOUNS and i - 1 in own]
    where = where or lead in phrases.ASKING_LEADS
    if where and (not (kind or len(own) + len(nouns) >= 2) or not phrases.NOT_A_THING.isdisjoint(texts[at + 1:end])
                  or _plain_contains(texts[at + 1:end], phrases.PEOPLE_NOT_PROFILED)
                  or any(text in vocabulary.range_table for text in texts[at + 1:end])):
        return None  # `where is the office`, `where is the meeting room`, `the team lunch today`: no file
    return at + 1 if named else None


def _searches_no_file(bare: list[str]) -> bool:
    """A search (`phrases.SEARCH_LEADS`) for a time, a room, a person or the web, and no kind of file
    (`phrases.NOT_A_THING`: `find the next available time`, `find the person who owns the budget`)."""
    return bool(_first_phrase(bare, phrases.SEARCH_LEADS)) and not phrases.NOT_A_THING.isdisjoint(bare) and (
        phrases.FILE_KINDS.isdisjoint(bare))


def _thing_end(words: list[_Word], start: int) -> int:
    """Where the name of a thing searched for from `start` ends: at the end of its clause, or a word that joins
    another request."""
    return next((i for i in range(start, len(words)) if words[i - 1].ends_clause or words[i].text in phrases.JOINING),
                len(words))


def _not_read(texts: list[str]) -> bool:
    """Whether the message asks for something the agent does not read (`phrases.NOT_READ`: `my tasks for today`),
    not a document about it (`phrases.FILE_KINDS`: `the tasks spreadsheet`)."""
    return _plain_contains(texts, phrases.NOT_READ) and phrases.FILE_KINDS.isdisjoint(texts)


def _made_by_someone(words: list[_Word], vocabulary: Vocabulary) -> bool:
    """Someone else's files (`phrases.AUTHORED`): a name or others (`phrases.OTHER_AUTHORS`) just before the word that
    says what was done to them, maybe with the user (`the deck megan made`, `files my team shared`, `the files tom
    and i worked on`), or someone after it and `by` (`files shared by diego`, not `by me`), or anyone after it and
    `with` (`files shared with me`, `the deck i shared with tom`: not the user's own files to search); or a name
    after `from` (`files from megan`, not `from sharepoint`); or a question of who (`phrases.ASKING_WHO`: `who made
    the budget file`)."""
    texts = [word.text for word in words]
    if not phrases.ASKING_WHO.isdisjoint(texts):
        return True  # `who does this deck belong to`, `who made the budget`: a person is asked for
    if phrases.AUTHORED.isdisjoint(texts) and "from" not in texts:
        return False
    for i, text in enumerate(texts):
        if text == "from" and i + 1 < len(texts) and _a_name(words, i + 1, vocabulary):
            return True  # `files from megan`
        if text not in phrases.AUTHORED:
            continue
        if texts[i + 1:i + 2] == ["with"] or (texts[i + 1:i + 2] == ["by"] and texts[i + 2:i + 3] != []
                                             and texts[i + 2] not in phrases.NOT_SOMEONE_ELSE):
            return True
        before = i - 1 - (len(texts[:i]) >= 3 and texts[i - 2] == "and" and texts[i - 1] in phrases.WITH_THE_USER) * 2
        if before >= 0 and (texts[before] in phrases.OTHER_AUTHORS or _a_name(words, before, vocabulary)
                            or _capitalized_inside(words, before)):
            return True  # `the deck megan made`, `the deck Mark made` (a name that is a word too)
    return False


def _capitalized_inside(words: list[_Word], i: int) -> bool:
    """Whether the word at `i` is typed with a capital inside a sentence, and is not `I` (`phrases.NOT_SOMEONE_ELSE`):
    before what someone did (`the deck Mark made`), a name even when it is a word too."""
    word = words[i]
    return (i > 0 and not words[i - 1].ends_clause and word.typed[:1].isupper() and word.text.isalpha()
            and word.text not in phrases.NOT_SOMEONE_ELSE and not word.typed.isupper())


def _a_name(words: list[_Word], i: int, vocabulary: Vocabulary) -> bool:
    """Whether the word at `i` is a name: letters the matcher does not know, or, typed with a capital but not at the
    start of a sentence, letters it did not know before a typo made them a word that is no cue (`Marco` is not
    `march`, but `Calnedar` is `calendar`)."""
    word = words[i]
    typed = word.typed.lower()
    return word.text.isalpha() and (
        (word.text not in vocabulary.known and not _a_form_of_known(word.text, vocabulary))
        or (i > 0 and not words[i - 1].ends_clause and word.typed[:1].isupper() and typed != word.text
            and typed not in vocabulary.known and word.text not in vocabulary.cue_table
            and word.text not in vocabulary.range_table))


def _their_day(texts: list[str], ranges: list[str]) -> bool:
    """Whether one of the people the user's profile names (`phrases.PEOPLE_OF_THE_PROFILE`: `my boss`) is the one
    whose day, presence or whereabouts is asked (`phrases.WHEREABOUTS`, but not the user's own, `my status`; a day:
    `is my manager in the office today`): the profile names them, but their day is theirs (`who is my manager` is the
    user's), and so is what the profile does not show of them (`the phone number of my manager`, `my boss email`;
    but `the name of my manager`); the manager of someone else is not the user's (`the boss of Mark`)."""
    if phrases.PEOPLE_OF_THE_PROFILE.isdisjoint(texts):
        return False
    theirs = any((texts[i - 2:i] in (["of", "my"], ["for", "my"]) and texts[i - 3:i - 2] != []
                  and texts[i - 3] not in phrases.SHOWN_OF_THEM)
                 or (texts[i + 1:i + 2] != [] and texts[i + 1] in phrases.PERSONAL
                     and texts[i + 1] not in phrases.SHOWN_OF_THEM)
                 or (texts[i + 1:i + 2] == ["of"] and texts[i + 2:i + 3] != []
                     and texts[i + 2] not in phrases.NOT_SOMEONE_ELSE | {"mine"})
                 for i, text in enumerate(texts) if text in phrases.PEOPLE_OF_THE_PROFILE)
    whereabouts = any(text in phrases.WHEREABOUTS and texts[i - 1:i] != ["my"] for i, text in enumerate(texts))
    return theirs or (bool(ranges) or whereabouts) and "who" not in texts


def _reports_of_another(texts: list[str]) -> bool:
    """Whether a question of whom someone reports to (`who`, `whom`) asks it of another than the user: `reports to`
    is said of another (`who Mark reports to`), and `report to` of whoever stands after the last `who` or `do`
    before it, another unless the user is among them (`who does Mark report to`, `who do they report to`; but `who
    do I report to`, `who i report to`)."""
    if phrases.ASKING_WHOM.isdisjoint(texts):
        return False
    for i, text in enumerate(texts):
        if text in ("report", "reports") and texts[i + 1:i + 2] == ["to"]:
            if text == "reports":
                return True
            start = max((j for j in range(i) if texts[j] in phrases.ASKING_WHOM | phrases.DOING), default=-1)
            subject = texts[start + 1:i]
            if start >= 0 and subject and phrases.NOT_SOMEONE_ELSE.isdisjoint(subject):
                return True
    return False


def _where_another_belongs(texts: list[str]) -> bool:
    """Whether the message asks where someone else belongs, in the shape `what <thing> is <someone> in` (`what
    department is megan in`, `which team is alex on`): `is` is never the user's (`which team am i on`), and a name
    typed in lower case cannot be told from a word."""
    return (len(texts) in (5, 6) and texts[0] in phrases.ASKING_WHICH_THING and texts[-3] == "is"
            and texts[-1] in phrases.BELONGING_IN)


def _someone_not_profiled(texts: list[str], vocabulary: Vocabulary) -> bool:
    """Whether the profile or the calendar is asked of someone the profile does not name
    (`phrases.PEOPLE_NOT_PROFILED`, after `phrases.THING_BEFORE`): who they are, where they are or whether they are
    free (`phrases.WHEREABOUTS`, `phrases.ASKING_WHO`: `is my skip-level free friday`, `who is my department head`),
    what they have (`phrases.PERSONAL`: `my director's calendar`, `calendar for my director`); not someone met with
    (`phrases.WITH_SOMEONE`: `my 1:1 with my director`), nor a meeting named after them (a cue after them: `the hr
    meeting today`, `my dentist appointment`)."""
    if not _plain_contains(texts, phrases.PEOPLE_NOT_PROFILED):
        return False
    line = f" {' '.join(texts)} "
    asked = not phrases.ASKING_WHO.isdisjoint(texts) or any(
        text in phrases.WHEREABOUTS and texts[i - 1:i] != ["my"] for i, text in enumerate(texts))
    for person in phrases.PEOPLE_NOT_PROFILED:
        at = line.find(f" {person} ")
        while at >= 0:
            before, after = line[:at].split(), line[at + len(person) + 2:].split()
            named_after = bool(after) and after[0] not in phrases.WHEREABOUTS and (
                after[0] in vocabulary.cue_table or after[0] in phrases.READ_OF_SOMEONE)
            if (before and before[-1] in phrases.THING_BEFORE and (len(before) < 2 or before[-2] not in
                                                                   phrases.WITH_SOMEONE) and not named_after
                    and (asked or (len(before) >= 2 and before[-2] in phrases.NAME_AFTER)
                         or (bool(after) and after[0] in phrases.PERSONAL))):
                return True
            at = line.find(f" {person} ", at + 1)
    return False


def _a_name_typed(words: list[_Word], vocabulary: Vocabulary) -> bool:
    """A word typed with a capital, but the first of a sentence, that is a name (`_a_name`: `what department is Lynne
    in`): the profile or the calendar asked for is theirs; not someone met with (`phrases.WITH_SOMEONE`: `my 1:1 with
    Diego today` is the user's calendar)."""
    return any(i > 0 and not words[i - 1].ends_clause and words[i - 1].text not in phrases.WITH_SOMEONE
               and word.typed[:1].isupper() and _a_name(words, i, vocabulary) for i, word in enumerate(words))


def _plain_contains(texts: list[str], table: tuple[str, ...]) -> bool:
    return bool(_table_patterns(table)[0].search(f" {' '.join(texts)} "))


def _requests(words: list[_Word], vocabulary: Vocabulary) -> list[Understood]:
    """The different commands the message's parts ask for, each clearly (`show my profile and my calendar`): the parts
    are what is between the words that join two requests (`phrases.JOINING`) or after a comma or a full stop. Help is
    none (`thanks, and my calendar`)."""
    if not any(word.ends_clause or word.text in phrases.JOINING for word in words[:-1]):
        return []  # one part
    found: dict[str, Understood] = {}
    start = 0
    for end in range(len(words) + 1):
        if end < len(words) and not words[end].ends_clause and words[end].text not in phrases.JOINING:
            continue
        part = words[start:end + (end < len(words) and words[end].ends_clause)]
        start = end + 1
        texts = [word.text for word in part]
        scores = _scores(texts, ranges := _ranges(texts, vocabulary), vocabulary)
        if ranges:
            scores[phrases.CALENDAR] = max(scores[phrases.CALENDAR] + 1, THRESHOLD)
        (name, top), (_, second) = scores.most_common(2)
        if top >= THRESHOLD and top - second >= LEAD and name != phrases.HELP and name not in found:
            found[name] = _reading(name, part, ranges, vocabulary)
    return list(found.values())


def _as_typed(words: list[_Word], vocabulary: Vocabulary) -> bool:
    """Arguments for the skill as they are: a range's name (`next`) or words `phrases` does not hold (`3/12`)."""
    texts = [word.text for word in words]
    return " ".join(texts) in vocabulary.ranges or (bool(texts) and all(text not in vocabulary.known for text in texts))


def _names_someone(texts: list[str], vocabulary: Vocabulary) -> bool:
    """A name before a thing a person has (`diego email address`) or after `for`/`of` (`calendar for megan`): a name
    is a word of letters `phrases.KNOWN` does not hold; or a word that makes the thing someone else's, just before it
    or one word before (`your schedule`, `your good name`)."""
    known = vocabulary.known
    return any((i + 1 < len(texts) and texts[i + 1] in phrases.PERSONAL
                and (text in phrases.OTHERS_BEFORE_PERSONAL or (text.isalpha() and text not in known)))
               or (text in phrases.OTHERS_BEFORE_PERSONAL and not phrases.PERSONAL.isdisjoint(texts[i + 1:i + 3]))
               or (text.isalpha() and text not in known and i > 0 and texts[i - 1] in phrases.NAME_AFTER)
               for i, text in enumerate(texts))


def _unplaced(texts: list[str], vocabulary: Vocabulary) -> bool:
    """A day the calendar has no range for (`yesterday`, `next month`, `the 14th`)."""
    return (_contains(texts, phrases.UNPLACED_DATES, vocabulary)
            or any(pattern.fullmatch(text) for text in texts for pattern in _date_patterns()))


def _actions(words: list[_Word], vocabulary: Vocabulary, thing: int | None = None) -> set[int]:
    """Where the message asks for an action the agent does not do: a verb of `phrases.ACTIONS` (`_verbs`) not inside
    a cue (`log out`), nor after words that make it a question about the past (`what files did i change`), nor in the
    name of a thing searched for (from `thing`: `find the delete request form`) unless it acts on something there
    (`find the deck and delete it`, `find the cancel my meeting`)."""
    if not (verbs := _verbs(words, thing)):
        return set()
    texts = [word.text for word in words]
    inside_cues = {start + offset for start, phrase in _matches(texts, vocabulary.cue_table, vocabulary) for offset in
                   range(len(phrase.split()))}
    return {i for i in verbs if i not in inside_cues
            and " ".join(texts[max(i - 1, 0):i]) not in phrases.ACTIONS_NOT_ASKED_AFTER
            and " ".join(texts[max(i - 2, 0):i]) not in phrases.ACTIONS_NOT_ASKED_AFTER}


def _verbs(words: list[_Word], thing: int | None = None) -> set[int]:
    """Where a word of `phrases.ACTIONS` stands as a verb: anywhere, but one that is a noun too
    (`phrases.ACTION_NOUNS`: `the weekly update`) only first, after `phrases.VERB_BEFORE` (`can you`, `i want to`)
    or a comma, or before what it acts on (`phrases.ACTED_ON`: `share the deck`)."""
    texts = [word.text for word in words]
    if phrases.ACTIONS.isdisjoint(texts):
        return set()
    first = len(words) - len(_without_courtesy(words))
    return {i for i, text in enumerate(texts)
            if text in phrases.ACTIONS
            and (thing is None or i < thing or words[i - 1].ends_clause or texts[i - 1] in phrases.JOINING
                 or (i + 1 < len(texts) and texts[i + 1] in phrases.ACTED_ON))
            and (text not in phrases.ACTION_NOUNS or i == first or (i > 0 and words[i - 1].ends_clause)
                 or texts[i - 1] in phrases.VERB_BEFORE or " ".join(texts[max(i - 2, 0):i]) in phrases.VERB_BEFORE
                 or (i + 1 < len(texts) and texts[i + 1] in phrases.ACTED_ON))}


def _reading(name: str, words: list[_Word], ranges: list[str], vocabulary: Vocabulary,
             thing: int | None = None) -> Understood:
    """The command `name` with the arguments the words give it."""
    if name == phrases.CALENDAR:
        return Understood(name, ranges[0] if ranges else "today")
    if name == phrases.FILES:
        return Understood(name, " ".join(_search_terms(words, vocabulary, thing)))
    return Understood(name)


def _search_terms(words: list[_Word], vocabulary: Vocabulary, thing: int | None = None) -> list[str]:
    """The words a file search looks for, as typed, each once: a suggestion's search leaves out what was not to be
    done (`delete the budget file`; an action's noun stays, `the weekly update`, and so does a word in the name of a
    thing searched for, from `thing`, even a word of another command: `the help desk guide`), a word of
    `phrases.FILE_QUERY_NOUNS` counts once a term is there (`the price list`), and a day of two words or more says
    when, not what (`files i viewed this morning`)."""
    terms: list[str] = []
    verbs = _verbs(words, thing)
    texts = [word.text for word in words]
    end = _thing_end(words, thing) if thing is not None else 0
    when = {begin + offset for begin, phrase in _matches(texts, vocabulary.range_table, vocabulary)
            if " " in phrase and vocabulary.range_table[phrase] != "next" for offset in range(len(phrase.split()))}
    named = False  # the word before was part of the name, or `the` before it
    for i, word in enumerate(words):
        ignored = (word.text in phrases.FILE_QUERY_IGNORES and not (terms and word.text in phrases.FILE_QUERY_NOUNS)
                   and not _starts_a_name(words, i)
                   and not (named and word.text in phrases.IN_A_NAME and i + 1 < len(words)
                            and _a_search_word(words[i + 1].text)))
        if word.text in phrases.AUTHORED and _by_the_user(words, i):
            ignored = True
        if ignored and thing is not None and thing <= i < end and word.text in vocabulary.cue_table and all(
                name != phrases.FILES for name, _ in vocabulary.cue_table[word.text]):
            ignored = False
        kept = word.typed and not ignored and i not in verbs and i not in when and word.text not in phrases.NEGATIONS
        if kept:
            terms.append(word.typed)
        named = bool(kept) or word.text in phrases.THING_STARTS
    return terms


def _by_the_user(words: list[_Word], i: int) -> bool:
    """Whether the user did what the word at `i` says (`docs i made`, `made by me`): which files, not their name."""
    return (i > 0 and words[i - 1].text in phrases.BY_THE_USER) or (
        i + 2 < len(words) and words[i + 1].text == "by" and words[i + 2].text in phrases.NOT_SOMEONE_ELSE)


def _starts_a_name(words: list[_Word], i: int) -> bool:
    """Whether the word at `i` starts the name searched for (`phrases.NAME_STARTS`: `find new york office photos`),
    not says which files (`any new budget files`, `new documents`)."""
    return (words[i].text in phrases.NAME_STARTS and i + 1 < len(words) and _a_search_word(words[i + 1].text)
            and (i == 0 or words[i - 1].text not in phrases.ASKING_WHICH))


def _a_search_word(text: str) -> bool:
    """Whether a word is one a search looks for: not one it leaves out, nor a kind of file."""
    return text.isalnum() and text not in phrases.FILE_QUERY_IGNORES and text not in phrases.FILE_KINDS


def _scores(texts: list[str], ranges: list[str], vocabulary: Vocabulary) -> Counter[str]:
    """Each command's score: cue phrases matched longest first, each word counting for one phrase only; a cue of
    `vocabulary.when_alone` counts when no other command has a cue (a range is the calendar's)."""
    scores: Counter[str] = Counter({name: 0 for name in vocabulary.cues})
    alone: Counter[str] = Counter()
    table = vocabulary.cue_table
    for phrase in _longest_matches(texts, table, vocabulary):
        for name, weight in table[phrase]:
            (alone if phrase in vocabulary.when_alone else scores)[name] += weight
    named = {name for name, score in scores.items() if score} | ({phrases.CALENDAR} if ranges else set())
    for name, weight in alone.items():
        if named <= {name}:
            scores[name] += weight
    return scores


def _ranges(texts: list[str], vocabulary: Vocabulary) -> list[str]:
    """The calendar day ranges the words name, in order: a window of the clock is today (`phrases.WINDOW_LEADS`), and
    so is a time of the day when no day is named (`phrases.CLOCK_TIMES`); what comes next on a day named is on that
    day (`the next call today`, `coming up in the next hour`), but for a period after it (`next week`,
    `phrases.PERIODS`). A day's short name that is a word too (`phrases.DAYS_AND_WORDS`: `sun`) is a day after a word
    that names one (`phrases.DAY_BEFORE`: `on sat`) or with a cue of the calendar (`sat meetings`)."""
    table, windowed = vocabulary.range_table, _windows_as_today(_near_ranges(texts, vocabulary))
    named = [(phrase, table[phrase]) for start, phrase in _matches(windowed, table, vocabulary)
             if phrase not in phrases.DAYS_AND_WORDS or windowed[start - 1:start] and windowed[start - 1] in
             phrases.DAY_BEFORE or _cued(texts, phrases.CALENDAR, vocabulary)]
    if {day_range for _, day_range in named} - {"next"} in ({"today"}, {"tomorrow"}):
        named = [(phrase, day_range) for phrase, day_range in named  # `my next call today`: today's next call
                 if day_range != "next" or any(word in phrases.PERIODS for word in phrase.split())]
    return [day_range for _, day_range in named] or (["today"] if _names_a_time(texts) else [])


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
            near = _only(first for first in firsts.get(texts[i + 1], ())
                         if abs(len(first) - len(typed)) <= 1 and _distance(typed, first, 1) <= 1)
            found[i] = near or typed
    return found


def _cued(texts: list[str], name: str, vocabulary: Vocabulary) -> bool:
    """Whether a cue of the command `name` is in `texts`."""
    table = vocabulary.cue_table
    return any(cue == name for phrase in _longest_matches(texts, table, vocabulary) for cue, _ in table[phrase])


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
                          if _starts(texts[i + 1:], phrase)), 0)
            found[start:i + 1 + after] = ["upcoming" if hours > 12 and texts[i].startswith("h") else "today"]
            end = start
    return found


def _names_a_time(texts: list[str]) -> bool:
    """Whether the words name a time of the day (`phrases.CLOCK_TIMES`)."""
    for i, text in enumerate(texts):
        if not (text[:1].isdigit() or text in phrases.CLOCK_TIMES):
            continue
        if _clock_pattern().fullmatch(text) or (text.isdigit() and int(text) <= 24 and (
                (i > 0 and texts[i - 1] in phrases.CLOCK_TIME_AFTER)
                or (i + 1 < len(texts) and texts[i + 1] in phrases.CLOCK_TIME_CLOSERS))):
            return True
    return False


def _longest_matches(texts: list[str], table: Mapping[str, object], vocabulary: Vocabulary) -> list[str]:
    return [phrase for _, phrase in _matches(texts, table, vocabulary)]


def _matches(texts: list[str], table: Mapping[str, object], vocabulary: Vocabulary) -> list[tuple[int, str]]:
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


def _not_to_run(texts: list[str], bare: list[str], vocabulary: Vocabulary) -> bool:
    """A negation, something the agent cannot do, or someone else's availability (`phrases.NOT_TO_RUN`), or a
    request that starts with something the agent cannot do (`phrases.NOT_TO_RUN_FIRST`)."""
    line = f" {' '.join(texts)} "
    for phrase in phrases.NOT_NEGATING:
        line = line.replace(f" {phrase} ", " ")
    return _contains(line.split(), phrases.NOT_TO_RUN, vocabulary) or bool(_first_phrase(bare,
                                                                                          phrases.NOT_TO_RUN_FIRST))


def _without_courtesy(words: list[_Word]) -> list[_Word]:
    """The words after those a request may start with (`phrases.COURTESY`), or all of them if nothing is left."""
    texts, start = [word.text for word in words], 0
    while courtesy := _first_phrase(texts[start:], phrases.COURTESY):
        start += len(courtesy.split())
    return words[start:] or words


def _starts(texts: list[str], phrase: str) -> bool:
    words = phrase.split()
    return texts[:len(words)] == words


def _first_phrase(texts: list[str], table: tuple[str, ...]) -> str:
    """The longest phrase of `table` `texts` start with, or `""`."""
    return next((phrase for phrase in _by_first_word(table).get(texts[0], ()) if _starts(texts, phrase)), "") if (
        texts) else ""


@cache
def _by_first_word(table: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The phrases of `table` by their first word, longest first."""
    found: dict[str, list[str]] = {}
    for phrase in sorted(table, key=lambda phrase: -len(phrase.split())):
        found.setdefault(phrase.split()[0], []).append(phrase)
    return {word: tuple(phrases) for word, phrases in found.items()}


def _contains(texts: list[str], table: tuple[str, ...], vocabulary: Vocabulary) -> bool:
    """Whether a phrase of `table` is in `texts`, a `*` standing for a name (a word `phrases.KNOWN` does not hold)."""
    line = f" {' '.join(texts)} "
    plain, starred = _table_patterns(table)
    return bool(plain.search(line)) or any(word not in vocabulary.known for pattern in starred
                                           for word in pattern.findall(line))


@cache
def _table_patterns(table: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
    """One pattern for the phrases of `table` without a `*`, and one for each with one, whose group is the word the
    `*` stands for (overlapping: `is * free` finds every word between)."""
    def pattern(phrase: str) -> str:
        return " ".join(r"(\S+)" if word == "*" else re.escape(word) for word in phrase.split())

    plain = "|".join(pattern(phrase) for phrase in table if "*" not in phrase.split())
    return (re.compile(rf" (?:{plain}) "),
            tuple(re.compile(rf"(?= {pattern(phrase)} )") for phrase in table if "*" in phrase.split()))


@cache
def _clock_pattern() -> re.Pattern[str]:
    return re.compile("|".join(phrases.CLOCK_TIMES))


@cache
def _date_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in phrases.UNPLACED_DATE_PATTERNS)


_AS_FOR = ("-wise", "‐wise")
"""A word with this ending speaks of the word before it (`calendar-wise`, `schedule-wise`)."""
_SHORT = 3
"""Letters: one of two words split from one cue by a typo is this short (`log ot`, `one drive`)."""
_EDGE_PUNCTUATION = '.,;:!?"()[]{}<>«»“”…*_~`\''
_CLOSING = '"\')]}»”'
_CLAUSE_ENDS = (",", ";", ".", "?", "!")
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
_MENTION = re.compile(r"<at>.*?</at>(?:'s|’s)?", re.IGNORECASE | re.DOTALL)


def _words(message: str, vocabulary: Vocabulary) -> tuple[list[_Word], bool]:
    """The message's words, and whether it speaks of someone else's things (`megan's calendar`, `her email`, a
    mention of a person: the agent's own leading mention is gone by now, or typed first, or after courtesy words only,
    as `@` and its name, the words after it that are no words the matcher knows, typed with a capital or before a
    word a request starts with: `@Graph Assistant find the deck`, `@graph assistant find the deck`). Words joined by
    a slash are two (`team/department`), and a file's name with its extension is the name and the kind of file
    (`pricing model.xlsx`: `phrases.EXTENSIONS`)."""
    words: list[_Word] = []
    someone_elses = _MENTION.search(message) is not None
    ends_clause = addressed = False
    theirs: list[int] = []  # where `my manager's` stands: the user's if the profile shows what follows (`name`)
    tokens = _SLASH.sub(" ", _MENTION.sub(" ", message).replace("’", "'").replace("‘", "'")).split()
    for at, token in enumerate(tokens):
        if ends_clause and words:
            words[-1] = replace(words[-1], ends_clause=True)
        ends_clause = token.rstrip(_CLOSING).endswith(_CLAUSE_ENDS)
        if token.startswith("@"):  # first, or after a greeting only (`hey @agent`): the agent
            addressed = not _without_courtesy(words + [_Word("", "")])[:-1] and not token.rstrip(
                _EDGE_PUNCTUATION).lower().endswith("'s")  # `@megan's calendar` is hers
            someone_elses |= not addressed
            continue
        token = token.strip(_EDGE_PUNCTUATION)
        if token.lower().endswith(_AS_FOR) and len(token) > len(_AS_FOR[0]):
            token = token[:-len(_AS_FOR[0])]  # `calendar-wise`: as for the calendar, the word itself
        lower = token.lower()
        if addressed and lower not in phrases.SPELLINGS and _fix_typo(
                lower.removesuffix("'s"), vocabulary) not in vocabulary.known and (
                token[:1].isupper() or tokens[at + 1:at + 2] != [] and tokens[at + 1].strip(
                    _EDGE_PUNCTUATION).lower() in phrases.REQUEST_STARTS):
            continue  # the agent's name, after its `@`
        addressed = False
        if lower in phrases.SPELLINGS:
            expansion = phrases.SPELLINGS[lower].split()
            words += [_Word(token if len(expansion) == 1 else part, part) for part in expansion]
            continue
        name, dot, extension = lower.rpartition(".")
        kind = phrases.EXTENSIONS.get(extension) if dot and any(letter.isalnum() for letter in name) else None
        if kind:
            token, lower = token[:len(name)], name
        if lower.endswith("'s"):
            token, lower = token[:-2], lower[:-2]
            owner = _fix_typo(lower, vocabulary)
            if owner in phrases.PEOPLE_OF_THE_PROFILE and words and words[-1].text == "my":
                theirs.append(len(words))
            else:
                someone_elses |= owner not in phrases.OTHERS_POSSESSIVE_EXCEPT  # `tomorow's`
        if any(letter.isalnum() for letter in token):
            text = _fix_typo(lower, vocabulary)
            if text.endswith("s") and _fix_typo(text[:-1], vocabulary) in phrases.OTHERS_POSSESSIVE_EXCEPT and (
                    text not in vocabulary.known or (words and words[-1].text in phrases.POSSESSIVE_AFTER)):
                text = _fix_typo(text[:-1], vocabulary)  # `tomorrows agenda`: a possessive without its apostrophe
            someone_elses |= text in phrases.OTHERS
            if text in vocabulary.run_together:  # `logoff`, `signout`: a cue of two words typed as one, typed once
                words += [_Word(token if i == 0 else "", part)
                          for i, part in enumerate(vocabulary.run_together[text].split())]
            else:
                words.append(_Word(token, text))
        if kind:
            words.append(_Word("", kind))
    for i in theirs:
        someone_elses |= not (i + 1 < len(words) and words[i + 1].text in phrases.SHOWN_OF_THEM)
    for i, word in enumerate(words[1:-1], start=1):  # `my managers name`: a possessive without its apostrophe
        if (word.text.endswith("s") and word.text[:-1] in phrases.PEOPLE_OF_THE_PROFILE and words[i - 1].text == "my"
                and words[i + 1].text in phrases.SHOWN_OF_THEM):
            words[i] = replace(word, text=word.text[:-1])
    someone_elses |= any(_a_names_possessive(words, i, vocabulary) for i in range(len(words) - 1)
                         if words[i].typed[:1].isupper())
    return _joined(words, vocabulary), someone_elses


def _a_names_possessive(words: list[_Word], i: int, vocabulary: Vocabulary) -> bool:
    """Whether the word at `i` is a name's possessive typed without its apostrophe (`Kevins recent documents`): a
    word with a capital, ending in `s` (not `ss`, `us`: `Process`, `Campus`), that the matcher does
    not know with or without it, alone (not after another word with a capital, `Contoso Sales`, nor after a word that
    says which thing it is, `phrases.THING_BEFORE`: `the Projects folder`; `Show` is no name), and a thing the agent
    reads close after it (`phrases.PERSONAL`, `phrases.FILE_KINDS`, `phrases.READ_OF_SOMEONE`)."""
    word = words[i]
    text = word.text
    if not (word.typed[:1].isupper() and text.endswith("s") and text.isalpha() and len(text) >= 4
            and not text.endswith(("ss", "us")) and not word.typed.isupper()):
        return False
    if text in vocabulary.known or text[:-1] in vocabulary.known or _a_form_of_known(text, vocabulary):
        return False
    if i > 0 and (words[i - 1].typed[:1].isupper() and not words[i - 1].ends_clause
                  and words[i - 1].text not in vocabulary.known or words[i - 1].text in phrases.THING_BEFORE):
        return False
    after = [other.text for other in words[i + 1:i + 4]]
    return any(text in phrases.PERSONAL or text in phrases.FILE_KINDS or text in phrases.READ_OF_SOMEONE
               for text in after[:next((j + 1 for j, text in enumerate(after) if text not in phrases.BEFORE_A_THING),
                                       len(after))])


def _joined(words: list[_Word], vocabulary: Vocabulary) -> list[_Word]:
    """Two words, one of them unknown and one short, that are a one-word cue with one typo (`log ot`) become that cue
    (`Jo edited` is two words)."""
    joined: list[_Word] = []
    for word in words:
        if joined and (previous := joined[-1]).text.isalpha() and word.text.isalpha() and (
                previous.text not in vocabulary.known or word.text not in vocabulary.known) and (
                min(len(previous.text), len(word.text)) <= _SHORT):
            together = _joined_cue(previous.text + word.text, vocabulary)
            if together:
                joined[-1] = _Word(f"{previous.typed} {word.typed}", together, word.ends_clause)
                continue
        joined.append(word)
    return joined


@lru_cache(maxsize=4096)
def _joined_cue(typed: str, vocabulary: Vocabulary) -> str:
    """The one-word cue two words typed together are, with one typo (`logot`: `logout`), or `""`."""
    together = _nearest(typed, tuple(cue for cue in vocabulary.one_word_cues
                                     if cue[0] == typed[0] or cue[-1] == typed[-1]), vocabulary)
    return together if together in vocabulary.cue_table and _distance(typed, together, 1) <= 1 else ""


@lru_cache(maxsize=4096)
def _fix_typo(word: str, vocabulary: Vocabulary) -> str:
    """The word a typo was meant as (which typos: `phrases`), or the word itself. A word this module knows, or a form
    of one (`booking`, `updates`), is a word of its own, never a typo of another. A word read as one that is dropped
    (`_DROPPED`: `please`, `find`) is lost from what is asked, so the typo must be plain: the same first letter
    (`lease` is no `please`) and no letter added before an ending of a form (`fined` is no `find`)."""
    fixed = _fixed(word, vocabulary)
    if fixed != word and fixed in _DROPPED and (
            fixed[0] != word[0] or len(word) > len(fixed) and word.endswith(_ENDINGS) and not fixed.endswith(_ENDINGS)):
        return word
    return fixed


_DROPPED = frozenset({*(word for phrase in (*phrases.COURTESY, *phrases.CLOSING_COURTESY, *phrases.GIVING_ASKED_AFTER)
                        for word in phrase.split()), *phrases.FILE_QUERY_IGNORES})
"""Words a request is said with, not what it asks for: courtesy and the words a file search leaves out."""


def _fixed(word: str, vocabulary: Vocabulary) -> str:
    if len(word) < 3 or word in vocabulary.known or word in vocabulary.run_together or not word.isalpha():
        return word
    if len(word) >= 5 and word[-1] == word[-2] and word[:-1] in vocabulary.words:
        return word[:-1]  # the last letter doubled: `filess`, `bosss`
    if _a_form_of_known(word, vocabulary):  # a form of a word, or a typo of another form of it (`editted`)
        near = _nearest(word, vocabulary.near(len(word), word[0], word[-1]), vocabulary)
        return near if _stems(near) & _stems(word) & vocabulary.known else word
    if not any(letter in _VOWELS for letter in word) and len(word) <= 4:
        return _only(known for known in vocabulary.near(len(word) + 1, word[0], word[-1])
                     if len(known) == len(word) + 1 and any(known[:i] + known[i + 1:] == word
                                                            for i in range(1, len(known) - 1))) or word
    if len(word) == 3:
        return next((swapped for swapped in _swaps(word) if swapped in vocabulary.known), word)
    if len(word) == 4:
        return next((known for known in _swaps(word) if known in vocabulary.words), vocabulary.dropped.get(word, word))
    return _nearest(word, vocabulary.near(len(word), word[0], word[-1]), vocabulary)


_LAST_LETTER = 6
"""Letters a word needs before a last letter dropped or added is read as a typo (`profil`, not `frida`)."""
_VOWELS = frozenset("aeiouy")
"""A word without one of these is no English word (`fnd`): a letter of a word was dropped."""
_ENDINGS = ("s", "es", "ed", "ing", "ings", "er", "ers", "ly")
"""What makes another form of a word (`shares`, `shared`, `sharing`, `booking`, `manager`, `clearly`)."""


@lru_cache(maxsize=8192)
def _stems(word: str) -> frozenset[str]:
    """The words `word` may be another form of: without one of `_ENDINGS`; before an ending that starts with a vowel,
    with its `e` back (`shar-ed`) or, after one vowel, its doubled last letter single (`plann-ing`, not `meett-ing`)."""
    stems: set[str] = set()
    for ending in _ENDINGS:
        stem = word[:-len(ending)]
        if word.endswith(ending) and len(stem) >= 3:
            stems.add(stem)
            if ending[0] in _VOWELS:
                stems.add(stem + "e")
                single = stem[:-1]
                if stem[-1] == single[-1] not in _VOWELS and single[-2] in _VOWELS and single[-3:-2] not in _VOWELS:
                    stems.add(single)
    return frozenset(stems)


def _a_form_of(word: str, other: str) -> bool:
    """Whether one of the two words is another form of the other (`shared`, `share`; `manager`, `manage`)."""
    return other in _stems(word) or word in _stems(other)


def _a_form_of_known(word: str, vocabulary: Vocabulary) -> bool:
    return any(stem in vocabulary.known for stem in _stems(word))


def _only(candidates: Iterable[str]) -> str:
    """The one candidate, if there is exactly one; else nothing (`""`)."""
    found = set(candidates)
    return found.pop() if len(found) == 1 else ""


def _nearest(word: str, candidates: tuple[str, ...], vocabulary: Vocabulary) -> str:
    """The one candidate one typo from `word` (a letter dropped, doubled, swapped or wrong, the last one too:
    `profil`, `findd`), else the one two typos from it if `word` has eight letters or more (`channged` is `changed`,
    not `change`), else `word`: a typo as near to two words is neither, unless they mean the same (`_alike`: `filez`
    is `files`, not `file`). Another form of a word is not a typo of it (`shared` is not `share`), and a word of five
    letters is not one with its last letter dropped or added: too many of them are names (`frida`)."""
    for allowed in range(1, (2 if len(word) >= 8 else 1) + 1):
        near = [known for known in candidates
                if _letters_apart(word, known) <= allowed and known != word
                and (len(word) >= _LAST_LETTER or not (known.startswith(word) or word.startswith(known)))
                and _distance(word, known, allowed) <= allowed and not _a_form_of(word, known)]
        if near:
            same = [known for known in near if len(known) == len(word)] or near
            return same[0] if all(_alike(known, near[0], vocabulary) for known in near) else word
    return word


def _alike(word: str, other: str, vocabulary: Vocabulary) -> bool:
    """Whether reading a typo as either word means the same: they are one word, forms of one (`files`, `file`), or
    cues of one command alone (`superior`, `supervisor`)."""
    table = vocabulary.cue_table
    return word == other or _a_form_of(word, other) or (
        word in table and other in table and {name for name, _ in table[word]} == {name for name, _ in table[other]})


def _letters_apart(a: str, b: str) -> int:
    """How many letters one word has that the other lacks, counted on the side with more: no edit distance is
    smaller, and it costs far less to count."""
    extra = sum(max(a.count(letter) - b.count(letter), 0) for letter in set(a))
    return max(extra, extra + len(b) - len(a))


def _swaps(word: str) -> list[str]:
    """`word` with two neighbouring letters swapped, each way."""
    return [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)]


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
