"""What the matcher knows of a set of command records: their cues and day ranges, and the tables made from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property

from .. import catalog, phrases
from ..catalog import CommandRecord


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
