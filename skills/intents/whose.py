"""Whose things a message asks for: the user's own, or someone else's (a name, a manager, another's files)."""

from __future__ import annotations

import re
from functools import cache

from .. import phrases
from .tables import first_phrase, has_cue, plain_contains
from .typos import a_form_of_known
from .vocabulary import Vocabulary
from .words import Word


def made_by_someone(words: list[Word], vocabulary: Vocabulary) -> bool:
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


def files_of_someone_known(words: list[Word]) -> bool:
    """Whether files are asked of someone the user knows by what they are to them (`phrases.OWNED_BY`: `files of my
    teammate`, `docs from the ceo`, `the files of my team mate Olga`), the person ending the request or their
    clause, or named after it (a capital), not naming its subject (`the notes from my manager sync`)."""
    line = f" {' '.join(word.text for word in words)} "
    for match in _owned_by_pattern().finditer(line):
        at = line[:match.end()].count(" ")  # the word after the person
        after = words[at].text if at < len(words) else ""
        if not after or after in phrases.FILE_QUERY_IGNORES or after in phrases.CLOSING_COURTESY or (
                _capitalized_inside(words, at)):
            return True
    return False


@cache
def _owned_by_pattern() -> re.Pattern[str]:
    people = "|".join(re.escape(person) for person in sorted(
        {*phrases.PEOPLE_OF_THE_PROFILE, *phrases.PEOPLE_NOT_PROFILED}, key=len, reverse=True))
    return re.compile(rf" (?:{'|'.join(sorted(phrases.OWNED_BY))}) (?:{'|'.join(sorted(phrases.THING_BEFORE))}) "
                      rf"(?:{people})(?= )")


def _capitalized_inside(words: list[Word], i: int) -> bool:
    """Whether the word at `i` is typed with a capital inside a sentence, and is not `I` (`phrases.NOT_SOMEONE_ELSE`):
    before what someone did (`the deck Mark made`), a name even when it is a word too."""
    word = words[i]
    return (i > 0 and not words[i - 1].ends_clause and word.typed[:1].isupper() and word.text.isalpha()
            and word.text not in phrases.NOT_SOMEONE_ELSE and not word.typed.isupper())


def _a_name(words: list[Word], i: int, vocabulary: Vocabulary) -> bool:
    """Whether the word at `i` is a name: letters the matcher does not know, or, typed with a capital but not at the
    start of a sentence, letters it did not know before a typo made them a word that is no cue (`Marco` is not
    `march`, but `Calnedar` is `calendar`); not when the whole word is in capitals (`TODAYS MEETINGS PLS` is shouted)
    or a shorthand spelled out (`pls`)."""
    word = words[i]
    typed = word.typed.lower()
    return word.text.isalpha() and (
        (word.text not in vocabulary.known and not a_form_of_known(word.text, vocabulary))
        or (i > 0 and not words[i - 1].ends_clause and word.typed[:1].isupper() and typed != word.text
            and typed not in vocabulary.known and typed not in phrases.SPELLINGS and not word.typed.isupper()
            and word.text not in vocabulary.cue_table
            and word.text not in vocabulary.range_table))


def their_day(texts: list[str], ranges: list[str]) -> bool:
    """Whether one of the people the user's profile names (`phrases.PEOPLE_OF_THE_PROFILE`: `my boss`) is the one
    whose day, presence or whereabouts is asked (`phrases.WHEREABOUTS`, but not the user's own, `my status`; a day:
    `is my manager in the office today`): the profile names them, but their day is theirs (`who is my manager` is the
    user's), and so is what the profile does not show of them (`the phone number of my manager`, `my boss email`;
    but `the name of my manager`); the manager of someone else is not the user's (`the boss of Mark`), nor one named
    with `the` but not `my` (`the job title of the new procurement lead`)."""
    if phrases.PEOPLE_OF_THE_PROFILE.isdisjoint(texts):
        return False
    theirs = any((texts[i - 2:i] in (["of", "my"], ["for", "my"]) and texts[i - 3:i - 2] != []
                  and texts[i - 3] not in phrases.SHOWN_OF_THEM)
                 or (texts[i + 1:i + 2] != [] and texts[i + 1] in phrases.PERSONAL
                     and texts[i + 1] not in phrases.SHOWN_OF_THEM)
                 or (texts[i + 1:i + 2] == ["of"] and texts[i + 2:i + 3] != []
                     and texts[i + 2] not in phrases.NOT_SOMEONE_ELSE | {"mine"})
                 or ("the" in texts[max(i - 3, 0):i] and "my" not in texts[max(i - 3, 0):i])
                 for i, text in enumerate(texts) if text in phrases.PEOPLE_OF_THE_PROFILE)
    whereabouts = any(text in phrases.WHEREABOUTS and texts[i - 1:i] != ["my"] for i, text in enumerate(texts))
    return theirs or (bool(ranges) or whereabouts) and "who" not in texts


def availability_of_another(texts: list[str], vocabulary: Vocabulary) -> bool:
    """Whether the message asks whether someone named with `the` is free (`phrases.AVAILABLE`: `is the engagement
    partner free this afternoon`, `is the dean around`): one to three words between that name no day, time or thing of
    the calendar (`is the afternoon free` is the user's)."""
    for i in range(len(texts) - 2):
        if texts[i:i + 2] == ["is", "the"]:
            for end in range(i + 3, min(i + 6, len(texts))):
                named = texts[i + 2:end]
                if first_phrase(texts[end:], phrases.AVAILABLE) and not any(
                        text in vocabulary.range_table or text in phrases.MEALS or has_cue([text], phrases.CALENDAR,
                                                                                          vocabulary)
                        for text in named):
                    return True
    return False


def reports_of_another(texts: list[str]) -> bool:
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


def where_another_belongs(texts: list[str]) -> bool:
    """Whether the message asks where someone else belongs, in the shape `what <thing> is <someone> in` (`what
    department is megan in`, `which team is alex on`): `is` is never the user's (`which team am i on`), and a name
    typed in lower case cannot be told from a word."""
    return (len(texts) in (5, 6) and texts[0] in phrases.ASKING_WHICH_THING and texts[-3] == "is"
            and texts[-1] in phrases.BELONGING_IN)


def someone_not_profiled(texts: list[str], vocabulary: Vocabulary) -> bool:
    """Whether the profile or the calendar is asked of someone the profile does not name
    (`phrases.PEOPLE_NOT_PROFILED`, after `phrases.THING_BEFORE`): who they are, where they are or whether they are
    free (`phrases.WHEREABOUTS`, `phrases.ASKING_WHO`: `is my skip-level free friday`, `who is my department head`),
    what they have (`phrases.PERSONAL`: `my director's calendar`, `calendar for my director`); not someone met with
    (`phrases.WITH_SOMEONE`: `my 1:1 with my director`), nor a meeting named after them (a cue after them: `the hr
    meeting today`, `my dentist appointment`)."""
    if not plain_contains(texts, phrases.PEOPLE_NOT_PROFILED):
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


def a_name_typed(words: list[Word], vocabulary: Vocabulary) -> bool:
    """A word typed with a capital, but the first of a sentence, that is a name (`_a_name`: `what department is Lynne
    in`): the profile or the calendar asked for is theirs; not someone met with (`phrases.WITH_SOMEONE`: `my 1:1 with
    Diego today` is the user's calendar), nor an acronym or its plural (`any KYC review meetings today`, `any QBRs
    today`)."""
    return any(i > 0 and not words[i - 1].ends_clause and words[i - 1].text not in phrases.WITH_SOMEONE
               and word.typed[:1].isupper() and not word.typed.rstrip("s").isupper() and _a_name(words, i, vocabulary)
               for i, word in enumerate(words))


def names_someone(texts: list[str], vocabulary: Vocabulary) -> bool:
    """A name before a thing a person has (`diego email address`) or after `for`/`of` (`calendar for megan`): a name
    is a word of letters `phrases.KNOWN` does not hold; or a word that makes the thing someone else's, just before it
    or one word before (`your schedule`, `your good name`)."""
    known = vocabulary.known
    return any((i + 1 < len(texts) and texts[i + 1] in phrases.PERSONAL and "with" not in texts[max(i - 2, 0):i]
                and (text in phrases.OTHERS_BEFORE_PERSONAL or (text.isalpha() and text not in known)))
               or (text in phrases.OTHERS_BEFORE_PERSONAL and not phrases.PERSONAL.isdisjoint(texts[i + 1:i + 3]))
               or (text.isalpha() and text not in known and i > 0 and texts[i - 1] in phrases.NAME_AFTER)
               for i, text in enumerate(texts))
