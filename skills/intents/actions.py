"""What the agent does not do: actions (`block 2pm`), negations, things it does not read; and `share me`, which is
`show me`."""

from __future__ import annotations

from dataclasses import replace

from .. import phrases
from .tables import contains, first_phrase, matches, plain_contains
from .vocabulary import Vocabulary
from .words import Word, without_courtesy


def shown_to_me(words: list[Word], vocabulary: Vocabulary) -> list[Word]:
    """`share me`, `send me`, `share with me` (`phrases.GIVING`) is `show me` when nobody else is given anything
    (`send me and megan`, `share the deck with megan`) and what is given is something there is (`my calendar`, `the
    budget file`), not something to make (`phrases.TO_MAKE`: `send me a reminder`): the user asks to see, not to
    send. So is `kindly share` given to nobody (`phrases.GIVING_ASKED_AFTER`: `kindly share my contact details`,
    `kindly do the needful and share my calendar`)."""
    texts = [word.text for word in words]
    if phrases.GIVING.isdisjoint(texts):
        return words
    first = len(words) - len(without_courtesy(words))
    asked = not phrases.GIVING_ASKED_AFTER.isdisjoint(texts[:first])
    for i, text in enumerate(texts):
        me = i + 1 + (texts[i + 1:i + 2] == ["with"])
        if text in phrases.GIVING and texts[me:me + 1] == ["me"] and not phrases.TO_MAKE.intersection(
                texts[me + 1:me + 2]) and not any(
                texts[j] in phrases.GIVEN_TO
                and (texts[j + 1] in phrases.OTHERS or texts[j + 1] not in vocabulary.known)
                for j in range(me + 1, len(texts) - 1)):
            return [*words[:i], replace(words[i], text="show"), *words[me:]]
        if (text in phrases.GIVING and (texts[i - 1:i] != [] and texts[i - 1] in phrases.GIVING_ASKED_AFTER
                                        or i == first and asked)
                and not phrases.TO_MAKE.intersection(texts[i + 1:i + 2])
                and phrases.GIVEN_TO.isdisjoint(texts[i + 1:])):
            return [*words[:i], replace(words[i], text="show"), *words[i + 1:]]  # `kindly share my calendar`
    return words


def not_read(texts: list[str], searched: bool) -> bool:
    """Whether the message asks for something the agent does not read (`phrases.NOT_READ`: `my tasks for today`),
    not a document about it (`phrases.FILE_KINDS`: `the tasks spreadsheet`), unless it is looked for there
    (`phrases.SEARCHED_NOT_READ`: `the invoice in my inbox`); a menu only when no thing is `searched` for by name
    (`phrases.MENUS`: `lunch menu today`, but `find the brunch menu`)."""
    about_a_document = not phrases.FILE_KINDS.isdisjoint(texts)
    return plain_contains(texts, phrases.SEARCHED_NOT_READ) or not about_a_document and (
        plain_contains(texts, phrases.NOT_READ) or not searched and plain_contains(texts, phrases.MENUS))


def unsupported_actions(words: list[Word], vocabulary: Vocabulary, thing: int | None = None) -> set[int]:
    """Where the message asks for an action the agent does not do: a verb of `phrases.ACTIONS` (`verbs_at`) not inside
    a cue (`log out`) or the courtesy a request starts with (`remind me who my manager is`), nor after words that make
    it a question about the past (`what files did i change`), nor in the name of a thing searched for (from `thing`:
    `find the delete request form`) unless it acts on something there (`find the deck and delete it`, `find the cancel
    my meeting`)."""
    if not (verbs := verbs_at(words, thing)):
        return set()
    texts = [word.text for word in words]
    inside_cues = {start + offset for start, phrase in matches(texts, vocabulary.cue_table, vocabulary) for offset in
                   range(len(phrase.split()))}
    first = len(words) - len(without_courtesy(words))
    return {i for i in verbs if i not in inside_cues and i >= first
            and " ".join(texts[max(i - 1, 0):i]) not in phrases.ACTIONS_NOT_ASKED_AFTER
            and " ".join(texts[max(i - 2, 0):i]) not in phrases.ACTIONS_NOT_ASKED_AFTER}


_STATE_QUESTIONS = frozenset({"is", "are", "am"})
"""A question that starts with one of these asks how things are: a verb that is an adjective too is the adjective
there (`is my diary clear`)."""


def verbs_at(words: list[Word], thing: int | None = None) -> set[int]:
    """Where a word of `phrases.ACTIONS` stands as a verb: anywhere, but one that is a noun too
    (`phrases.ACTION_NOUNS`: `the weekly update`) only first, or second after a command's name as the first word
    (`calendar add lunch 12pm`, as a command line reads), after `phrases.VERB_BEFORE` (`can you`, `i want to`) or a
    comma, or before what it acts on (`phrases.ACTED_ON`: `share the deck`)."""
    texts = [word.text for word in words]
    if phrases.ACTIONS.isdisjoint(texts):
        return set()
    first = len(words) - len(without_courtesy(words))
    return {i for i, text in enumerate(texts)
            if text in phrases.ACTIONS
            and (thing is None or i < thing or words[i - 1].ends_clause or texts[i - 1] in phrases.JOINING
                 or (i + 1 < len(texts) and texts[i + 1] in phrases.ACTED_ON))
            and not (text in phrases.ACTION_NOUNS and texts[first] in _STATE_QUESTIONS and i > first + 1
                     and texts[i - 1] not in phrases.VERB_BEFORE)  # `is my diary clear this afternoon`
            and (text not in phrases.ACTION_NOUNS or i == first or (i > 0 and words[i - 1].ends_clause)
                 or (i == first + 1 and texts[first] in phrases.COMMAND_NAMES)
                 or texts[i - 1] in phrases.VERB_BEFORE or " ".join(texts[max(i - 2, 0):i]) in phrases.VERB_BEFORE
                 or (i + 1 < len(texts) and texts[i + 1] in phrases.ACTED_ON))}


def not_to_run(texts: list[str], bare: list[str], vocabulary: Vocabulary) -> bool:
    """A negation, something the agent cannot do, or someone else's availability (`phrases.NOT_TO_RUN`), or a
    request that starts with something the agent cannot do (`phrases.NOT_TO_RUN_FIRST`)."""
    line = f" {' '.join(texts)} "
    for phrase in phrases.NOT_NEGATING:
        line = line.replace(f" {phrase} ", " ")
    return contains(line.split(), phrases.NOT_TO_RUN, vocabulary) or bool(first_phrase(bare, phrases.NOT_TO_RUN_FIRST))
