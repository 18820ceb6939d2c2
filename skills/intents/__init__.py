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

Its parts, one concern each: `words` (the message as words: mentions, possessives, typos fixed by `typos`), `days`
(the day ranges and times named), `whose` (someone else's things), `actions` (what the agent does not do), `search`
(a file search's terms), over `tables` (finding phrases) and `vocabulary` (what a set of command records teaches).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .. import phrases
from .actions import not_read, not_to_run, shown_to_me, unsupported_actions
from .days import day_ranges, unplaced
from .search import looks_up_someone, named_thing, search_terms, searches_no_file
from .tables import first_phrase, has_cue, last_but_courtesy, longest_matches, plain_contains, without_closing_courtesy
from .typos import a_form_of_known
from .vocabulary import DEFAULT, Vocabulary
from .whose import (
    a_name_typed,
    availability_of_another,
    files_of_someone_known,
    made_by_someone,
    names_someone,
    reports_of_another,
    someone_not_profiled,
    their_day,
    where_another_belongs,
)
from .words import Word, without_courtesy, words_of

MAX_LENGTH = 300
"""Characters; a request is a sentence, and a long paste must not cost the event loop."""
THRESHOLD = 2
"""A command needs at least this score."""
LEAD = 2
"""…and to lead any other command that reaches the threshold by this much, else the message is ambiguous."""


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


def understand(message: str, vocabulary: Vocabulary = DEFAULT) -> Meaning:
    """What a typed message asks for (see the module docstring), in the words of `vocabulary`'s commands (the agent's
    own by default). A message longer than any request is not one."""
    if len(message) > MAX_LENGTH:
        return NotUnderstood()
    return _understand(message, vocabulary)


@lru_cache(maxsize=1024)
def _understand(message: str, vocabulary: Vocabulary) -> Meaning:
    """Cached: every route's selector asks for the same message (a vocabulary is hashed by its identity)."""
    words, someone_elses = words_of(message, vocabulary)
    words = _without_signing_out_later(shown_to_me(words, vocabulary), vocabulary)
    texts = [word.text for word in words]
    if not texts:
        return Understood(phrases.HELP)
    if (besides := _besides_refused(words, vocabulary)) is not None:
        return besides
    bare = without_courtesy(words)
    bare_texts = [word.text for word in bare]
    exact = phrases.EXACT.get(" ".join(without_closing_courtesy(bare_texts)))
    if exact:
        return Understood(exact)
    ranges = day_ranges(texts, vocabulary)
    scores = _scores(texts, ranges, vocabulary)
    if ranges and not any(scores.values()):
        if not _about_something_else(texts, vocabulary):
            scores[phrases.CALENDAR] = THRESHOLD  # a time on its own asks for the calendar
    elif ranges:
        scores[phrases.CALENDAR] += 1
    if not ranges and last_but_courtesy(texts) == "next" and scores[phrases.CALENDAR] >= THRESHOLD:
        ranges = ["next"]  # `where do i have to be next`, `calendar next please`
    thing = named_thing(words, len(words) - len(bare), vocabulary)
    if thing is not None:  # `find the sign out sheet`: a file search, whatever its name holds
        scores = Counter({name: 0 for name in scores} | {phrases.FILES: THRESHOLD + LEAD})
    (first, top), (_, second) = scores.most_common(2)
    best = [_reading(name, words, ranges, vocabulary, thing) for name, score in scores.most_common() if score > 0]
    if not_read(texts, searched=thing is not None):
        return NotUnderstood(None, unsupported=True)  # nothing the agent reads is to suggest
    unsupported = bool(unsupported_actions(words, vocabulary, thing))
    if (someone_elses or unsupported or not_to_run(texts, bare_texts, vocabulary)
            or (first == phrases.FILES and (made_by_someone(words, vocabulary) or files_of_someone_known(words)))
            or searches_no_file(bare_texts) or looks_up_someone(bare, vocabulary)):
        return NotUnderstood(next((reading for reading in best if reading.name != phrases.LOGOUT), None), unsupported)
    if top < THRESHOLD:
        return NotUnderstood(best[0] if best else None)
    if first in (phrases.ME, phrases.CALENDAR) and (_their_day(words, vocabulary)
                                                    or someone_not_profiled(texts, vocabulary)
                                                    or availability_of_another(texts, vocabulary)
                                                    or where_another_belongs(texts)
                                                    or reports_of_another(texts)):
        return NotUnderstood()  # the day of someone the profile names, or anything of another: not the user's
    if len(requests := _requests(words, vocabulary)) > 1:
        return Unclear((requests[0], requests[1]))
    if second >= THRESHOLD and top - second < LEAD:
        return Unclear((best[0], best[1]))
    if first in (phrases.ME, phrases.CALENDAR) and (names_someone(texts, vocabulary)
                                                    or a_name_typed(words, vocabulary)):
        return NotUnderstood(best[0])
    if (first == phrases.CALENDAR and bare[0].text == phrases.CALENDAR and not ranges
            and _as_typed(bare[1:], vocabulary)):
        return Understood(first, " ".join(word.typed for word in bare[1:] if word.typed))  # the skill says which
    if first == phrases.CALENDAR and unplaced(texts, vocabulary):
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
    if plain_contains(texts, phrases.FAREWELLS):
        return True
    line = f" {' '.join(texts)} "
    return any(f" {question} " in line for question in phrases.VALUE_QUESTIONS) and any(
        text.isalpha() and text not in vocabulary.known and not a_form_of_known(text, vocabulary)
        and "the" in texts[max(i - 2, 0):i] for i, text in enumerate(texts))


_REFERRING = frozenset({"it", "them", "this", "that", "those", "these"})
"""Words that point back to something named in another part of the message."""
_NOT = frozenset({"not", "never"})
"""Of `phrases.NEGATIONS`, those that only negate (`skip`, `stop` are verbs too: `my skip level`)."""


def _without_signing_out_later(words: list[Word], vocabulary: Vocabulary) -> list[Word]:
    """`words` without a clause that says when, by the user signing out (`phrases.WHEN_I`: `before I log off`): a
    time, not a request to sign out."""
    texts = [word.text for word in words]
    if phrases.WHEN_I.isdisjoint(texts):
        return words
    signing_out = tuple(vocabulary.cues.get(phrases.LOGOUT, ()))
    for i in range(len(texts) - 2):
        if texts[i] in phrases.WHEN_I and texts[i + 1] in ("i", "we") and (
                cue := first_phrase(texts[i + 2:], signing_out)):
            return words[:i] + words[i + 2 + len(cue.split()):]
    return words


def _parts(words: list[Word]) -> list[list[Word]]:
    """The message's parts: what is between the words that join two requests (`phrases.JOINING`,
    `phrases.JOINING_PHRASES`) or after a comma or a full stop, and from a negation on (`today not tomorrow`)."""
    parts: list[list[Word]] = []
    texts = [word.text for word in words]
    start = 0
    for end, word in enumerate(words):
        if end < start:
            continue  # inside a joining phrase
        if word.text in _NOT and end > start:  # `/calendar today not tomorrow`: a negation starts one
            parts.append(words[start:end])
            start = end
        if word.ends_clause or word.text in phrases.JOINING:
            parts.append(words[start:end + word.ends_clause])
            start = end + 1
        elif joining := first_phrase(texts[end:], phrases.JOINING_PHRASES):  # `log me out after you show my status`
            parts.append(words[start:end])
            start = end + len(joining.split())
        elif word.text in phrases.JOINING_BEFORE_DOING and texts[end + 1:end + 2] != [] and texts[end + 1].endswith(
                "ing") and end > start:  # `log me out after showing my files`
            parts.append(words[start:end])
            start = end + 1
    return [part for part in [*parts, words[start:]] if part]


def _besides_refused(words: list[Word], vocabulary: Vocabulary) -> Understood | None:
    """The command the parts of a message ask for that negate or refuse nothing, when the others do (`not today,
    tomorrow`, `I don't need files, just tell me who my manager is`): those parts understood alone, a command or
    nothing."""
    texts = {word.text for word in words}
    if phrases.NEGATIONS.isdisjoint(texts) and texts.isdisjoint(phrases.REFUSALS):
        return None
    parts = _parts(words)
    refused = [part for part in parts if _refuses(part)]
    if not refused or len(refused) == len(parts):
        return None
    rest = _understand(", ".join(" ".join(word.typed or word.text for word in part) for part in parts
                                 if part not in refused), vocabulary)
    return rest if isinstance(rest, Understood) and rest.name != phrases.HELP else None


def _refuses(part: list[Word]) -> bool:
    """Whether a part of a message negates (`phrases.NEGATIONS`, but `phrases.NOT_NEGATING`) or starts with a
    refusal (`phrases.REFUSALS`: `nah`)."""
    texts = [word.text for word in part]
    line = f" {' '.join(texts)} "
    for phrase in phrases.NOT_NEGATING:
        line = line.replace(f" {phrase} ", " ")
    return not phrases.NEGATIONS.isdisjoint(line.split()) or bool(
        first_phrase([word.text for word in without_courtesy(part)], phrases.REFUSALS))


def _their_day(words: list[Word], vocabulary: Vocabulary) -> bool:
    """Whether a part of the message asks of the day or whereabouts of someone the profile names (`whose.their_day`):
    a day in another part is the user's (`my manager and my next meeting`)."""
    if phrases.PEOPLE_OF_THE_PROFILE.isdisjoint(word.text for word in words):
        return False
    return any(their_day(texts := [word.text for word in part], day_ranges(texts, vocabulary))
               for part in _parts(words))


def _requests(words: list[Word], vocabulary: Vocabulary) -> list[Understood]:
    """The different commands the message's parts ask for, each clearly (`show my profile and my calendar`): the parts
    are what is between the words that join two requests (`phrases.JOINING`) or after a comma or a full stop. Help is
    none (`thanks, and my calendar`)."""
    if len(parts := _parts(words)) < 2:
        return []
    found: dict[str, Understood] = {}
    for part in parts:
        texts = [word.text for word in part]
        if plain_contains(texts, phrases.FAREWELLS):
            continue  # `that's all for today, please log me out`: a day's end said before the request
        exact = phrases.EXACT.get(" ".join(texts))
        if exact is not None and exact != phrases.HELP:  # `/me and /files`
            found.setdefault(exact, Understood(exact))
            continue
        scores = _scores(texts, ranges := day_ranges(texts, vocabulary), vocabulary)
        if ranges:
            scores[phrases.CALENDAR] = max(scores[phrases.CALENDAR] + 1, THRESHOLD)
        (name, top), (_, second) = scores.most_common(2)
        if top >= THRESHOLD and top - second >= LEAD and name != phrases.HELP and name not in found:
            found[name] = _reading(name, part, ranges, vocabulary)
    return list(found.values())


def _as_typed(words: list[Word], vocabulary: Vocabulary) -> bool:
    """Arguments for the skill as they are: a range's name (`next`) or words `phrases` does not hold (`3/12`)."""
    texts = [word.text for word in words]
    return " ".join(texts) in vocabulary.ranges or (bool(texts) and all(text not in vocabulary.known for text in texts))


def _reading(name: str, words: list[Word], ranges: list[str], vocabulary: Vocabulary,
             thing: int | None = None) -> Understood:
    """The command `name` with the arguments the words give it: a file search's from the one part of the message that
    asks for files, when there is one and it does not point back to another (`the Cyberdyne questionnaire, can you
    find it`)."""
    if name == phrases.CALENDAR:
        return Understood(name, ranges[0] if ranges else "today")
    if name == phrases.FILES:
        if thing is None and len(parts := _parts(words)) > 1:  # `lost a tab, can you list what i opened recently`
            asked = [part for part in parts if has_cue([word.text for word in part], phrases.FILES, vocabulary)]
            if len(asked) == 1 and _REFERRING.isdisjoint(word.text for word in asked[0]):
                words = asked[0]
        return Understood(name, " ".join(search_terms(words, vocabulary, thing)))
    return Understood(name)


def _scores(texts: list[str], ranges: list[str], vocabulary: Vocabulary) -> Counter[str]:
    """Each command's score: cue phrases matched longest first, each word counting for one phrase only; a cue of
    `vocabulary.when_alone` counts when no other command has a cue (a range is the calendar's)."""
    scores: Counter[str] = Counter({name: 0 for name in vocabulary.cues})
    alone: Counter[str] = Counter()
    table = vocabulary.cue_table
    for phrase in longest_matches(texts, table, vocabulary):
        for name, weight in table[phrase]:
            (alone if phrase in vocabulary.when_alone else scores)[name] += weight
    named = {name for name, score in scores.items() if score} | ({phrases.CALENDAR} if ranges else set())
    for name, weight in alone.items():
        if named <= {name}:
            scores[name] += weight
    return scores
