"""Typos read as the word they were meant as (`calnedar`: `calendar`), and the forms of a word (`shared`: `share`)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from .. import phrases
from .vocabulary import Vocabulary

_DROPPED = frozenset({*(word for phrase in (*phrases.COURTESY, *phrases.CLOSING_COURTESY, *phrases.GIVING_ASKED_AFTER)
                        for word in phrase.split()), *phrases.FILE_QUERY_IGNORES})
"""Words a request is said with, not what it asks for: courtesy and the words a file search leaves out."""
_LAST_LETTER = 6
"""Letters a word needs before a last letter dropped or added is read as a typo (`profil`, not `frida`)."""
_VOWELS = frozenset("aeiouy")
"""A word without one of these is no English word (`fnd`): a letter of a word was dropped."""
_ENDINGS = ("s", "es", "ed", "ing", "ings", "er", "ers", "ly")
"""What makes another form of a word (`shares`, `shared`, `sharing`, `booking`, `manager`, `clearly`)."""
COMMON = 1000
"""Times pyspellchecker's English list counts a word for it to be common: about 19,000 words (`contract`, `remote`,
`stats`), not the rarer ones a typo makes of a known word (`calender`, `manger`)."""
_COUNTED_COMMON = re.compile(r'"([^"\n]+)": [1-9]\d{3,}')
"""A word of the list's JSON (`"word": count`) counted at least `COMMON` times: four digits or more."""


@cache
def common_english() -> frozenset[str]:
    """Common English words (`COMMON`), read line by line from the word frequency list `SpellChecker(language="en")`
    loads, without importing it (the same words, `tests/test_intents.py` checks): 2 MB kept where the spell checker
    leaves 12 MB, so the app reads them in its warm-up, off the event loop."""
    spec = find_spec("spellchecker")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pyspellchecker, a dependency of the matcher, is not installed")
    listed = Path(spec.submodule_search_locations[0]) / "resources" / "en.json.gz"
    with gzip.open(listed, "rt", encoding="utf-8") as lines:
        return frozenset(found[1] for line in lines if (found := _COUNTED_COMMON.search(line)))


@lru_cache(maxsize=4096)
def fix_typo(word: str, vocabulary: Vocabulary) -> str:
    """The word a typo was meant as (`typo_of`), or the word itself. A common English word (`common_english`) is
    itself (`contract` is no `contact`, `remote` no `remove`, `sprint` no `print`), unless two neighbouring letters
    swapped, the commonest slip of all, make it a cue of one word (`flies`: `files`)."""
    meant = typo_of(word, vocabulary)
    if word in common_english() and not (meant in vocabulary.cue_table and meant in _swaps(word)):
        return word
    return meant


@lru_cache(maxsize=4096)
def typo_of(word: str, vocabulary: Vocabulary) -> str:
    """The word a typo was meant as (which typos: `phrases`), or the word itself. A word this module knows, or a form
    of one (`booking`, `updates`), is a word of its own, never a typo of another. A word read as one that is dropped
    (`_DROPPED`: `please`, `find`) is lost from what is asked, so the typo must be plain: the same first letter
    (`lease` is no `please`) and no letter added before an ending of a form (`fined` is no `find`)."""
    fixed = _fixed(word, vocabulary)
    if fixed != word and fixed in _DROPPED and (
            fixed[0] != word[0] or len(word) > len(fixed) and word.endswith(_ENDINGS) and not fixed.endswith(_ENDINGS)):
        return word
    return fixed


def _fixed(word: str, vocabulary: Vocabulary) -> str:
    if len(word) < 3 or word in vocabulary.known or word in vocabulary.run_together or not word.isalpha():
        return word
    if len(word) >= 5 and word[-1] == word[-2] and word[:-1] in vocabulary.words:
        return word[:-1]  # the last letter doubled: `filess`, `bosss`
    if a_form_of_known(word, vocabulary):  # a form of a word, or a typo of another form of it (`editted`)
        near = nearest(word, vocabulary.near(len(word), word[0], word[-1]), vocabulary)
        return near if _stems(near) & _stems(word) & vocabulary.known else word
    if not any(letter in _VOWELS for letter in word) and len(word) <= 4:
        return the_only(known for known in vocabulary.near(len(word) + 1, word[0], word[-1])
                        if len(known) == len(word) + 1 and any(known[:i] + known[i + 1:] == word
                                                               for i in range(1, len(known) - 1))) or word
    if len(word) == 3:
        return next((swapped for swapped in _swaps(word) if swapped in vocabulary.known), word)
    if len(word) == 4:
        return next((known for known in _swaps(word) if known in vocabulary.words), vocabulary.dropped.get(word, word))
    return nearest(word, vocabulary.near(len(word), word[0], word[-1]), vocabulary)


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


def a_form_of_known(word: str, vocabulary: Vocabulary) -> bool:
    return any(stem in vocabulary.known for stem in _stems(word))


def the_only(candidates: Iterable[str]) -> str:
    """The one candidate, if there is exactly one; else nothing (`""`)."""
    found = set(candidates)
    return found.pop() if len(found) == 1 else ""


def nearest(word: str, candidates: tuple[str, ...], vocabulary: Vocabulary) -> str:
    """The one candidate one typo from `word` (a letter dropped, doubled, swapped or wrong, the last one too:
    `profil`, `findd`), else the one two typos from it if `word` has eight letters or more (`channged` is `changed`,
    not `change`), else `word`: a typo as near to two words is neither, unless they mean the same (`_alike`: `filez`
    is `files`, not `file`). Another form of a word is not a typo of it (`shared` is not `share`), and a word of five
    letters is not one with its last letter dropped or added: too many of them are names (`frida`)."""
    for allowed in range(1, (2 if len(word) >= 8 else 1) + 1):
        near = [known for known in candidates
                if _letters_apart(word, known) <= allowed and known != word
                and (len(word) >= _LAST_LETTER or not (known.startswith(word) or word.startswith(known)))
                and edit_distance(word, known, allowed) <= allowed and not _a_form_of(word, known)]
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


def edit_distance(a: str, b: str, limit: int) -> int:
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
