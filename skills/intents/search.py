"""What a file search looks for: the thing a message names (`find the sign out sheet`) and its words as typed."""

from __future__ import annotations

from .. import phrases
from .actions import verbs_at
from .days import clock_pattern
from .tables import (
    first_phrase,
    has_cue,
    last_but_courtesy,
    matches,
    plain_contains,
    where_phrases,
    without_closing_courtesy,
)
from .vocabulary import Vocabulary
from .words import Word, without_courtesy


def named_thing(words: list[Word], start: int, vocabulary: Vocabulary) -> int | None:
    """Where the thing a file search names starts, when the message (from `start`, after its courtesy words) starts
    with a word that searches and `the` (`phrases.SEARCH_LEADS`, `phrases.THING_STARTS`: `find the profile photo`),
    or `my` after one that only searches (`find my status update`), or with `search` alone (`phrases.BARE_SEARCH_LEADS`:
    `search calendar migration plan`), and that thing has a word of its own, not another command's cue, a range, a
    time of the day or a word a search leaves out (`find the next meeting`, `find my 2pm` name nothing), nor only whose
    it is (`phrases.WHOSE_BEFORE`: `find the profile of megan`, but `the sign in sheet for visitors` is a kind of
    file); with another lead and neither, two such words (`find help desk SOP`, but `find out what is on`); else
    None."""
    texts = [word.text for word in words]
    lead = first_phrase(texts[start:], phrases.SEARCH_LEADS)
    where = not lead and texts[start:start + 1] == ["where"] and bool(
        lead := first_phrase(texts[start:], phrases.WHERE_LEADS))
    at = start + len(lead.split())
    if not lead or texts[at:at + 1] == []:
        return None
    cued = {i for begin, phrase in matches(texts, vocabulary.cue_or_range_table, vocabulary)
            if any(name != phrases.FILES for name, _ in vocabulary.cue_table.get(phrase, ((phrases.CALENDAR, 0),)))
            for i in range(begin, begin + len(phrase.split()))}
    searching = lead not in phrases.ASKING_LEADS and not where
    article = texts[at] in phrases.THING_STARTS or (searching and texts[at] == "my" and at not in cued)
    if article:
        at += 1
    elif not searching:
        return None
    end = _thing_end(words, at)
    own = [i for i in range(at, end)
           if i not in cued and texts[i] not in phrases.FILE_QUERY_IGNORES and texts[i] not in phrases.NEGATIONS
           and not clock_pattern().fullmatch(texts[i])]
    if not article and lead not in phrases.BARE_SEARCH_LEADS and len(own) < 2:
        return None
    whose = [i for i in own if texts[i - 1] in phrases.WHOSE_BEFORE]
    kind = not phrases.FILE_KINDS.isdisjoint(texts[at:end])
    named = len(own) > len(whose) or (bool(own) and kind) or (
        end - 1 > at and last_but_courtesy(texts[at:end]) in phrases.FILE_KINDS)  # `the sign out sheet`
    nouns = [i for i in range(at + 1, end) if texts[i] in phrases.FILE_QUERY_NOUNS and i - 1 in own]
    where = where or lead in phrases.ASKING_LEADS
    if where and (not (kind or len(own) + len(nouns) >= 2) or not phrases.NOT_A_THING.isdisjoint(texts[at:end])
                  or plain_contains(texts[at:end], phrases.PEOPLE_NOT_PROFILED)
                  or any(text in vocabulary.range_table for text in texts[at:end])):
        return None  # `where is the office`, `where is the meeting room`, `the team lunch today`: no file
    return at if named else None


def looks_up_someone(bare: list[Word], vocabulary: Vocabulary) -> bool:
    """A search (`phrases.SEARCH_LEADS`) for someone by name and no kind of file nor other cue of the files
    (`phrases.FILE_KINDS`, `find Roadmap in sharepoint`): a word typed with a capital that
    the matcher does not know, alone or before where they are (`phrases.WHOSE_BEFORE`, `in`, `at`: `look up Rachel
    in accounting`; but `search Contoso roadmap`). A name can be an English word too (`Rachel`, `Mark`), so a thing
    named by one word with a capital is taken for a person (`find Budget`): asked again, not searched."""
    texts = [word.text for word in bare]
    lead = first_phrase(texts, phrases.SEARCH_LEADS)
    at = len(lead.split())
    if not lead or at >= len(bare) or not phrases.FILE_KINDS.isdisjoint(texts) or has_cue(
            texts[at:], phrases.FILES, vocabulary):
        return False
    name = bare[at]
    return (name.typed[:1].isupper() and not name.typed.isupper() and name.text.isalpha()
            and name.text not in vocabulary.known and (at + 1 == len(bare) or texts[at + 1] in _WHERE_SOMEONE_IS))


_WHERE_SOMEONE_IS = frozenset({*phrases.WHOSE_BEFORE, "in", "at", "on"})


def searches_no_file(bare: list[str]) -> bool:
    """A search (`phrases.SEARCH_LEADS`) for a time, a room, a person or the web, and no kind of file
    (`phrases.NOT_A_THING`: `find the next available time`, `find the person who owns the budget`), or for a time of
    the day (`find my 2pm`)."""
    return bool(first_phrase(bare, phrases.SEARCH_LEADS)) and phrases.FILE_KINDS.isdisjoint(bare) and (
        not phrases.NOT_A_THING.isdisjoint(bare) or any(clock_pattern().fullmatch(text) for text in bare))


def _thing_end(words: list[Word], start: int) -> int:
    """Where the name of a thing searched for from `start` ends: at the end of its clause, or a word that joins
    another request, before any words that close a request politely (`find brand guidelines pls thanks`)."""
    end = next((i for i in range(start, len(words)) if words[i - 1].ends_clause or words[i].text in phrases.JOINING),
               len(words))
    return start + len(without_closing_courtesy([word.text for word in words[start:end]])) if end > start else end


def search_terms(words: list[Word], vocabulary: Vocabulary, thing: int | None = None) -> list[str]:
    """The words a file search looks for, as typed, each once: a suggestion's search leaves out what was not to be
    done (`delete the budget file`; an action's noun stays, `the weekly update`, and so does a word in the name of a
    thing searched for, from `thing`, even a word of another command: `the help desk guide`), a word of
    `phrases.FILE_QUERY_NOUNS` counts once a term is there (`the price list`), a day of two words or more says
    when, not what (`files i viewed this morning`), and so does what the user did to a file or was done to it after
    its kind (`phrases.AUTHORED`: `docs i made`, `the deck made yesterday`). The courtesy a request starts with is
    never searched for (`yo show me my docs`), and a word typed with a capital inside a thing's name always is (`the
    Today Show transcript`)."""
    terms: list[str] = []
    first = len(words) - len(without_courtesy(words))
    shouted = all(word.typed.isupper() for word in words if word.typed.isalpha())
    verbs = verbs_at(words, thing)
    texts = [word.text for word in words]
    end = _thing_end(words, thing) if thing is not None else 0
    when = {begin + offset for begin, phrase in matches(texts, vocabulary.range_table, vocabulary)
            if " " in phrase and vocabulary.range_table[phrase] != "next" for offset in range(len(phrase.split()))}
    phrasal = {begin + offset for begin, size in where_phrases(texts, phrases.WORDS_OF_ONE_NAME)  # `out of office`
               for offset in range(size)}
    named = False  # the word before was part of the name, or `the` before it (or the name starts here: `thing`)
    for i, word in enumerate(words):
        ignored = (word.text in phrases.FILE_QUERY_IGNORES and not (terms and word.text in phrases.FILE_QUERY_NOUNS)
                   and not (word.text in phrases.NUMBERED and i + 1 < len(words) and words[i + 1].text.isdigit())
                   and not _starts_a_name(words, i)
                   and not ((named or i == thing) and word.text in phrases.IN_A_NAME and i + 1 < len(words)
                            and not word.typed.endswith(("'s", "’s"))  # `tomorrow's specials board`: when
                            and words[i + 1].text.isalnum() and words[i + 1].text not in phrases.FILE_QUERY_IGNORES))
        if word.text in phrases.AUTHORED and (_by_the_user(words, i) or i > 0 and (
                words[i - 1].text in phrases.FILE_KINDS or words[i - 1].text in phrases.WHEN_DONE)):
            ignored = True
        inside = thing is not None and thing <= i < end
        titled = inside and word.typed[:1].isupper() and (not word.typed.isupper() or len(word.typed) > 1 and not (
            shouted)) and word.text not in phrases.FILE_KINDS  # `the Today Show transcript`, `the ER staffing plan`
        if ignored and inside and (titled or i in phrasal or word.text in vocabulary.cue_table and all(
                name != phrases.FILES for name, _ in vocabulary.cue_table[word.text])):
            ignored = False
        kept = (word.typed and not ignored and i >= first and i not in verbs and (i not in when or titled)
                and (thing is None or i >= thing)  # the lead before a thing's name is none of it (`dig out the`)
                and word.text not in phrases.NEGATIONS and not word.typed.startswith("-"))  # `-l`: an option
        if kept:
            terms.append(word.typed)
        named = bool(kept) or word.text in phrases.THING_STARTS
    return terms


def _by_the_user(words: list[Word], i: int) -> bool:
    """Whether the user did what the word at `i` says (`docs i made`, `made by me`): which files, not their name."""
    return (i > 0 and words[i - 1].text in phrases.BY_THE_USER) or (
        i + 2 < len(words) and words[i + 1].text == "by" and words[i + 2].text in phrases.NOT_SOMEONE_ELSE)


def _starts_a_name(words: list[Word], i: int) -> bool:
    """Whether the word at `i` starts the name searched for (`phrases.NAME_STARTS`: `find new york office photos`),
    not says which files (`any new budget files`, `new documents`)."""
    return (words[i].text in phrases.NAME_STARTS and i + 1 < len(words) and _a_search_word(words[i + 1].text)
            and (i == 0 or words[i - 1].text not in phrases.ASKING_WHICH))


def _a_search_word(text: str) -> bool:
    """Whether a word is one a search looks for: not one it leaves out, nor a kind of file."""
    return text.isalnum() and text not in phrases.FILE_QUERY_IGNORES and text not in phrases.FILE_KINDS
