"""A typed message as words: mentions, possessives, spellings, typos fixed, and whether it speaks of someone else's
things."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from .. import phrases
from .tables import first_phrase
from .typos import a_form_of_known, common_english, edit_distance, fix_typo, nearest, typo_of
from .vocabulary import Vocabulary

_AS_FOR = ("-wise", "‐wise")
"""A word with this ending speaks of the word before it (`calendar-wise`, `schedule-wise`)."""
_SHORT = 3
"""Letters: one of two words split from one cue by a typo is this short (`log ot`, `one drive`)."""
_EDGE_PUNCTUATION = '.,;:!?"()[]{}<>«»“”…*_~`\''
_CLOSING = '"\')]}»”'
_CLAUSE_ENDS = (",", ";", ".", "?", "!")
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
_ACRONYM = 4
"""Letters an acronym typed in capitals has at most: never read as a typo of a word (`RFI` is no `fri`), unless the
whole message is in capitals (`MY FIES PLS`)."""
_PLURALS = frozenset({"days"})
"""A plural that is rarely a possessive without its apostrophe (`the next days`; but `this weeks meetings`)."""
_DASHES = frozenset({"-", "--", "–", "—"})
"""A dash standing alone between words ends a clause, like a comma (`not today - tomorrow`)."""
_FLAG = re.compile(r"--?([a-z][a-z-]*)", re.IGNORECASE)
_DAY_OFFSET = re.compile(r"([+-]\d+)d", re.IGNORECASE)
_OFFSET_DAYS = {0: "today", 1: "tomorrow", -1: "yesterday"}
"""Days as a command line gives them (`cal +1d`); another offset stays as typed, a day the calendar has no range for
(`phrases.UNPLACED_DATE_PATTERNS`)."""
_MENTION = re.compile(r"<at>.*?</at>(?:'s|’s)?", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Word:
    typed: str
    """As the user wrote it (kept for a file search)."""
    text: str
    """Lower case, spelling and typos fixed: what cues match."""
    ends_clause: bool = False
    """Typed with a comma, a semicolon or a full stop after it: another request may follow."""


def without_courtesy(words: list[Word]) -> list[Word]:
    """The words after those a request may start with (`phrases.COURTESY`), or all of them if nothing is left."""
    texts, start = [word.text for word in words], 0
    while courtesy := first_phrase(texts[start:], phrases.COURTESY):
        start += len(courtesy.split())
    return words[start:] or words


def words_of(message: str, vocabulary: Vocabulary) -> tuple[list[Word], bool]:
    """The message's words, and whether it speaks of someone else's things (`megan's calendar`, `her email`, a
    mention of a person: the agent's own leading mention is gone by now, or typed first, or after courtesy words only,
    as `@` and its name, the words after it that are no words the matcher knows, typed with a capital or before a
    word a request starts with: `@Graph Assistant find the deck`, `@graph assistant find the deck`). Words joined by
    a slash are two (`team/department`), and a file's name with its extension is the name and the kind of file
    (`pricing model.xlsx`: `phrases.EXTENSIONS`)."""
    words: list[Word] = []
    someone_elses = _MENTION.search(message) is not None
    ends_clause = addressed = False
    theirs: list[int] = []  # where `my manager's` or, after it, `their` stands: the user's if the card shows what
    # follows (`name`)
    tokens = _SLASH.sub(" ", _MENTION.sub(" ", message).replace("’", "'").replace("‘", "'")).split()
    shouted = all(token.isupper() for token in tokens if any(letter.isalpha() for letter in token))
    for at, token in enumerate(tokens):
        if ends_clause and words:
            words[-1] = replace(words[-1], ends_clause=True)
        ends_clause = token.rstrip(_CLOSING).endswith(_CLAUSE_ENDS) or token in _DASHES  # `not today - tomorrow`
        if (flag := _FLAG.fullmatch(token)) and len(flag[1]) > 1:  # a command line's option: its word (`--today`),
            if flag[1].lower() not in vocabulary.known:  # or nothing, when it is none the agent has (`--verbose`)
                continue
            token = flag[1]
        elif offset := _DAY_OFFSET.fullmatch(token):  # `+1d`, `-1d`
            token = _OFFSET_DAYS.get(int(offset[1]), token)
        if token.startswith("@"):  # first, or after a greeting only (`hey @agent`): the agent
            addressed = not without_courtesy(words + [Word("", "")])[:-1] and not token.rstrip(
                _EDGE_PUNCTUATION).lower().endswith("'s")  # `@megan's calendar` is hers
            someone_elses |= not addressed
            continue
        token = token.strip(_EDGE_PUNCTUATION)
        if token.startswith("/") and token[1:].lower() in vocabulary.known:
            token = token[1:]  # `/me and /files`, `ls ~/onedrive`: a command or a place typed with a slash
        if token.lower().endswith(_AS_FOR) and len(token) > len(_AS_FOR[0]):
            token = token[:-len(_AS_FOR[0])]  # `calendar-wise`: as for the calendar, the word itself
        lower = token.lower()
        if addressed and lower not in phrases.SPELLINGS and (lower in phrases.AGENT_NAME_WORDS or fix_typo(
                lower.removesuffix("'s"), vocabulary) not in vocabulary.known) and (
                token[:1].isupper() or tokens[at + 1:at + 2] != [] and tokens[at + 1].strip(
                    _EDGE_PUNCTUATION).lower() in phrases.REQUEST_STARTS):
            continue  # the agent's name, after its `@`
        addressed = False
        if lower in phrases.SPELLINGS:
            expansion = phrases.SPELLINGS[lower].split()
            words += [Word(token if len(expansion) == 1 or "-" in token and i == 0 else "" if "-" in token else part,
            part)
                      for i, part in enumerate(expansion)]  # `sign-out` is typed once, as itself
            continue
        name, dot, extension = lower.rpartition(".")
        kind = phrases.EXTENSIONS.get(extension) if dot and any(letter.isalnum() for letter in name) else None
        if kind:
            token, lower = token[:len(name)], name
        typed = token  # a search looks for a possessive as typed (`Friday's assay`)
        if lower.endswith("'s"):
            token, lower = token[:-2], lower[:-2]
            lower = _spelled(lower)  # `tmrw's schedule`
            owner = fix_typo(lower, vocabulary)
            if owner in phrases.PEOPLE_OF_THE_PROFILE and words and (words[-1].text == "my" or len(words) > 1 and (
                    words[-2].text == "my" and words[-1].text in phrases.WHICH_MANAGER)):  # `my line manager's`
                theirs.append(len(words))
            else:
                met = [word.text for word in words[-2:]] in (["with"], ["with", "the"]) or (
                    words and words[-1].text == "with")  # `meetings with the minister's office`: someone met
                said_is = tokens[at + 1:at + 2] != [] and tokens[at + 1].strip(
                    _EDGE_PUNCTUATION).lower() in phrases.SAID_OF_A_THING  # `shift's over`: `shift is over`
                someone_elses |= owner not in phrases.OTHERS_POSSESSIVE_EXCEPT and not met and not said_is
        if any(letter.isalnum() for letter in token):
            text = lower if token.isupper() and len(lower) <= _ACRONYM and not shouted else fix_typo(lower, vocabulary)
            if text.endswith("s") and text not in _PLURALS and (stem := fix_typo(_spelled(text[:-1]), vocabulary)) in (
                    phrases.OTHERS_POSSESSIVE_EXCEPT) and (
                    text not in vocabulary.known or (words and words[-1].text in phrases.POSSESSIVE_AFTER)):
                text = stem  # `tomorrows agenda`, `tmrs meetings`: a possessive without its apostrophe
            if text in phrases.THEIR and any(word.text in phrases.PEOPLE_OF_THE_PROFILE
                                             or word.text in ("report", "reporting") for word in words):
                theirs.append(len(words))  # `my manager and their title`: the manager's, shown on the card
            else:
                someone_elses |= text in phrases.OTHERS
            if text in vocabulary.run_together:  # `logoff`, `signout`: a cue of two words typed as one, typed once
                words += [Word(token if i == 0 else "", part)
                          for i, part in enumerate(vocabulary.run_together[text].split())]
            else:
                words.append(Word(typed, text))
        if kind:
            words.append(Word("", kind))
    for i in theirs:
        someone_elses |= not (i + 1 < len(words) and words[i + 1].text in phrases.SHOWN_OF_THEM)
    for i, word in enumerate(words[1:-1], start=1):  # `my managers name`: a possessive without its apostrophe
        owner = next((word.text[:-len(ending)] for ending in ("es", "s") if word.text.endswith(ending)
                      and word.text[:-len(ending)] in phrases.PEOPLE_OF_THE_PROFILE), None)  # `my bosses name`
        if owner and words[i - 1].text == "my" and words[i + 1].text in phrases.SHOWN_OF_THEM:
            words[i] = replace(word, text=owner)
    someone_elses |= any(_a_names_possessive(words, i, vocabulary) for i in range(len(words) - 1)
                         if words[i].typed[:1].isupper())
    words = [word for i, word in enumerate(words)  # `my own info`, `my current title`: the user's info, title
             if not (word.text in phrases.SAYING_WHICH_OF_MINE and i > 0 and words[i - 1].text == "my")]
    return _joined(_typos_in_cues(_without_letter_courtesy(words), vocabulary), vocabulary), someone_elses


def _spelled(word: str) -> str:
    """A shorthand of one word spelled out (`phrases.SPELLINGS`: `tmrw`), else the word."""
    spelled = phrases.SPELLINGS.get(word, word)
    return word if " " in spelled else spelled


def _without_letter_courtesy(words: list[Word]) -> list[Word]:
    """`words` without a letter's salutation before its first comma (`phrases.SALUTATIONS`: `Dear Graph,`) and its
    sign-off after the last full stop or comma (`phrases.SIGN_OFFS`: `Regards, Agnes`), when a request stands between
    them."""
    texts = [word.text for word in words]
    start = end = 0
    if first_phrase(texts, phrases.SALUTATIONS):
        start = next((i + 1 for i, word in enumerate(words[:4]) if word.ends_clause), 0)
    for i in range(len(words) - 1, start, -1):
        if words[i - 1].ends_clause and first_phrase(texts[i:], phrases.SIGN_OFFS) and len(texts) - i <= 4:
            end = len(words) - i
            break
    return words[start:len(words) - end] if len(words) - end > start else words


def _a_names_possessive(words: list[Word], i: int, vocabulary: Vocabulary) -> bool:
    """Whether the word at `i` is a name's possessive typed without its apostrophe (`Kevins recent documents`): a
    word with a capital, ending in `s` (not `ss`, `us`: `Process`, `Campus`, nor an acronym's plural: `QBRs`), that
    the matcher does
    not know with or without it, alone (not after another word with a capital, `Contoso Sales`, or one that the
    matcher knows inside a sentence, a title: `the Next Steps doc`; nor after a word that says which thing it is,
    `phrases.THING_BEFORE`: `the Projects folder`; `Show` is no name), and a thing the agent reads close after it
    (`phrases.PERSONAL`, `phrases.FILE_KINDS`, `phrases.READ_OF_SOMEONE`)."""
    word = words[i]
    text = word.text
    if not (word.typed[:1].isupper() and text.endswith("s") and text.isalpha() and len(text) >= 4
            and not text.endswith(("ss", "us")) and not word.typed[:-1].isupper()):
        return False
    if text in vocabulary.known or text[:-1] in vocabulary.known or a_form_of_known(text, vocabulary):
        return False
    if i > 0 and (words[i - 1].typed[:1].isupper() and not words[i - 1].ends_clause
                  and (words[i - 1].text not in vocabulary.known or i > 1 and not words[i - 2].ends_clause)
                  or words[i - 1].text in phrases.THING_BEFORE):
        return False
    after = [other.text for other in words[i + 1:i + 4]]
    return any(text in phrases.PERSONAL or text in phrases.FILE_KINDS or text in phrases.READ_OF_SOMEONE
               for text in after[:next((j + 1 for j, text in enumerate(after) if text not in phrases.BEFORE_A_THING),
                                       len(after))])


def _typos_in_cues(words: list[Word], vocabulary: Vocabulary) -> list[Word]:
    """`words` with each common English word left as itself (`typos.common_english`) read as the typo it is, or as the
    word it sounds like (`phrases.HOMOPHONES`), where that makes a range of two words or more with the words beside it
    (`rest of the weak`, `this weak`), or a cue with a word that says what (not one a file search leaves out: `sing
    out`, `my job tile`; but `my contract` is no `my contact`)."""
    texts = [word.text for word in words]
    common = common_english()
    for i, word in enumerate(words):
        if word.text not in common or word.text in vocabulary.known:
            continue
        meant = phrases.HOMOPHONES.get(word.text) or typo_of(word.text, vocabulary)
        if meant == word.text:
            continue
        read = [*texts[:i], meant, *texts[i + 1:]]
        for size in (2, 3, 4):
            for start in range(max(i - size + 1, 0), min(i, len(read) - size) + 1):
                phrase = " ".join(read[start:start + size])
                if phrase in vocabulary.range_table or phrase in vocabulary.cue_table and any(
                        read[j] not in phrases.FILE_QUERY_IGNORES for j in range(start, start + size) if j != i):
                    words[i], texts[i] = replace(word, text=meant), meant
    return words


def _joined(words: list[Word], vocabulary: Vocabulary) -> list[Word]:
    """Two words, one of them unknown and one short but of two letters or more, that are a one-word cue with one typo
    (`log ot`) become that cue (`Jo edited` is two words, and so is `for B`)."""
    joined: list[Word] = []
    for word in words:
        if joined and (previous := joined[-1]).text.isalpha() and word.text.isalpha() and (
                previous.text not in vocabulary.known or word.text not in vocabulary.known) and (
                1 < min(len(previous.text), len(word.text)) <= _SHORT):
            together = _joined_cue(previous.text + word.text, vocabulary)
            if together:
                joined[-1] = Word(f"{previous.typed} {word.typed}", together, word.ends_clause)
                continue
        joined.append(word)
    return joined


@lru_cache(maxsize=4096)
def _joined_cue(typed: str, vocabulary: Vocabulary) -> str:
    """The one-word cue two words typed together are, with one typo (`logot`: `logout`), or `""`."""
    together = nearest(typed, tuple(cue for cue in vocabulary.one_word_cues
                                    if cue[0] == typed[0] or cue[-1] == typed[-1]), vocabulary)
    return together if together in vocabulary.cue_table and edit_distance(typed, together, 1) <= 1 else ""
