"""Every word and phrase the plain-language matcher (`skills/intents/`) knows: the tables shared by all commands,
and those of each command, written in its record (`skills/catalog.py`: `cues`, `when_alone`, `ranges`). To teach the
agent a new way of asking, change those tables and add the phrasing to the corpus in `tests/test_intents.py` (never to
a held-out corpus, `tests/corpora/held_out*.tsv`, which measures what was not taught).

Words are matched lower case, without punctuation. A word of five letters or more that is one typo (a letter
missing, extra, wrong or two letters swapped, the first or the last letter kept) away from exactly one word listed
here is read as that word (`calnedar`, `meetigns`, `tomorow`, `manger`; from six letters on, the last letter dropped
or added too: `profil`, `filess`); from eight letters on, two typos (`schedual`). A word of four letters that is a
word listed here with one letter dropped or two swapped is read as it (`fils`, `sing`), one of three letters only
with two swapped (`teh`), one of three or four letters without a vowel, which no word is, as the one word listed here
it is with a letter dropped (`fnd`, `bss`); a short word and its neighbour that are a one-word cue with a typo are
read as it (`log ot`, `on drive`), and a cue of two words typed as one is that cue (`logoff`, `signoff`). Otherwise
short words would turn too many real words into cues (`fine` is not `find`, `frida` is not `friday`); another form
of a word is not a typo of it (`shared` is not `share`), a word this file knows (`KNOWN`) is never read as another,
nor is another form of one (`booking` is not `looking`).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import catalog

SPELLINGS: dict[str, str] = {
    # contractions, as typed with or without the apostrophe
    "whats": "what is", "what's": "what is", "wats": "what is", "wat": "what", "whos": "who is", "who's": "who is",
    "wheres": "where is", "where's": "where is", "hows": "how is", "how's": "how is", "whens": "when is",
    "when's": "when is", "that's": "that is", "thats": "that is", "there's": "there is", "it's": "it is",
    "im": "i am", "i'm": "i am",
    "ive": "i have", "i've": "i have", "i'd": "i would", "dont": "do not", "don't": "do not", "didnt": "did not",
    "didn't": "did not",
    "cant": "can not", "can't": "can not", "cannot": "can not", "wont": "will not", "won't": "will not",
    "doesnt": "does not", "doesn't": "does not", "isnt": "is not", "isn't": "is not",
    "wasnt": "was not", "wasn't": "was not", "werent": "were not", "weren't": "were not", "arent": "are not",
    "aren't": "are not", "havent": "have not", "haven't": "have not", "hasnt": "has not", "hasn't": "has not",
    "shouldnt": "should not", "shouldn't": "should not", "wouldnt": "would not", "wouldn't": "would not",
    "couldnt": "could not", "couldn't": "could not", "aint": "is not", "ain't": "is not",
    # shorthand
    "u": "you", "r": "are", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thanks",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "2morrow": "tomorrow", "tomoro": "tomorrow",
    "tdy": "today", "2day": "today", "tonite": "tonight", "wk": "week", "nxt": "next",
    # a digit for the sound of a syllable, as texts are written, and slang (`tomoz`)
    "2moro": "tomorrow", "2morow": "tomorrow", "2moz": "tomorrow", "2mrw": "tomorrow", "2mro": "tomorrow",
    "2mrow": "tomorrow", "tomoz": "tomorrow", "tmrow": "tomorrow", "tmro": "tomorrow", "2nite": "tonight",
    "2night": "tonight", "b4": "before", "l8r": "later", "2wk": "two weeks",
    "wknd": "weekend", "wkend": "weekend", "lookup": "look up",
    "prof": "profile", "deets": "details", "rn": "right now", "wat's": "what is",
    "time's": "time is",
    # false friends of other languages (`reunion`: a meeting; `chef`: a boss; `numero`: a number)
    "reunion": "meeting", "reunions": "meetings", "numero": "number", "informations": "information",
    "organigram": "org chart", "organigramme": "org chart", "organogram": "org chart",
    "mtg": "meeting", "mtgs": "meetings", "cal": "calendar", "appt": "appointment", "appts": "appointments",
    "doc": "document", "docs": "documents", "docx": "document", "pdfs": "pdf", "ppt": "powerpoint",
    "pptx": "powerpoint", "xlsx": "excel", "xls": "excel", "info": "information", "mgr": "manager", "abt": "about",
    "dept": "department", "depts": "departments", "to-do": "todo", "to-dos": "todos", "dnd": "do not disturb",
    "sign-out": "sign out", "log-out": "log out", "log-off": "log off", "sign-off": "sign off", "e-mail": "email",
    "&": "and", "&&": "and", "+": "and", "1:1": "meeting", "1on1": "meeting", "one-on-one": "meeting",
    "nevermind": "never mind",
    # pictures that name a command
    "📅": "calendar", "📆": "calendar", "🗓": "calendar", "🗓️": "calendar", "📁": "files", "📂": "files",
}
"""Rewritten before matching: shorthand and contractions become the words the cues below use. Any other word
without a letter or a digit (an emoji, `...`, `-`) is left out: it is never a cue nor a search term."""

HOMOPHONES: dict[str, str] = {"weak": "week", "weaks": "weeks", "weakend": "weekend", "mourning": "morning",
                              "knight": "night", "sine": "sign", "meat": "meet"}
"""Words that sound like a word of a cue or a range, as dictation or autocorrect writes them: read as that word only
where it makes a cue or a range with the words beside it (`rest of the weak`, `this mourning`), like a typo that is a
word (`skills/intents/words.py`)."""

LOGOUT = catalog.LOGOUT.name
ME = catalog.ME.name
CALENDAR = catalog.CALENDAR.name
FILES = catalog.FILES.name
HELP = catalog.HELP.name
"""The commands the rules below and in `skills/intents/` name."""

JOINING: frozenset[str] = frozenset({"and", "also", "plus", "then", "or", "but"})
JOINING_PHRASES: tuple[str, ...] = ("as well as", "after you", "before you", "once you")
JOINING_BEFORE_DOING: frozenset[str] = frozenset({"after", "before"})
"""Before a verb's `-ing` form, these join a second request (`log me out after showing my files`)."""
AVAILABLE: tuple[str, ...] = ("free", "busy", "available", "around", "booked", "in the office", "in office", "in today",
                              "in tomorrow", "in this", "out today", "out of office", "off today", "on leave", "away",
                              "wfh", "working from home", "at work", "at the office", "in the building")
"""`is the <someone> free`: whether someone named with `the` is free or where they are (`is the engagement partner
free this afternoon`, `is the art director in the office today`)."""
WHEN_I: frozenset[str] = frozenset({"before", "after", "when", "once", "until", "till"})
"""Before `I` and a cue of signing out, a clause that says when (`a preview of next week before I log off`)."""
"""Words that join two requests in one message: when the parts ask clearly for two different commands, the user is
asked which (running one of them alone would leave the other unsaid)."""

COMMAND_NAMES: frozenset[str] = frozenset({ME, CALENDAR, FILES, LOGOUT})
FIRST_ON_A_TIE: tuple[str, ...] = (LOGOUT,)
"""Commands that rank first among equal scores; the others follow in the catalog's order."""


def cues_of(records: Iterable[catalog.CommandRecord]) -> dict[str, dict[str, int]]:
    """Per command: the phrases that point to it and how strongly (each record's `cues`), and each cue of two words
    of their own also the other way round with `of`, as many languages say it (`phone number`: `number of phone`,
    `work email`: `email of work`)."""
    return {record.name: {**{inverted: weight for phrase, weight in record.cues.items()
                             if (inverted := _inverted(phrase)) and inverted not in record.cues}, **record.cues}
            for record in sorted(records, key=lambda record: record.name not in FIRST_ON_A_TIE) if record.cues}


def _inverted(phrase: str) -> str:
    """`phone number` as `number of phone`: a cue of a noun before a thing (`_OF_THINGS`), else `""`."""
    words = phrase.split()
    if len(words) != 2 or words[1] not in _OF_THINGS or not words[0].isalpha() or words[0] in _NOT_OF:
        return ""
    return f"{words[1]} of {words[0]}"


_OF_THINGS = frozenset({
    "number", "numbers", "details", "information", "card", "address", "addresses", "email", "profile", "location",
    "notes", "minutes", "entry", "leader", "role", "title", "name", "phone", "status", "chart"})
"""Things the commands show, whose cues say the other way round with `of` are the same (`number of phone`)."""
_NOT_OF = frozenset({"my", "the", "your", "our", "full", "good", "current", "personal", "display", "recent"})
"""Words before one of `_OF_THINGS` that say whose or which, not what kind (`my title`, `full name`)."""


def when_alone_of(records: Iterable[catalog.CommandRecord]) -> frozenset[str]:
    """The cues of `records` that count only alone (`WHEN_ALONE`)."""
    return frozenset(phrase for record in records for phrase in record.when_alone)


def ranges_of(records: Iterable[catalog.CommandRecord]) -> dict[str, tuple[str, ...]]:
    """The day ranges plain words name, and the phrases that name each (the records' `ranges`: the calendar's)."""
    return {day_range: words for record in records for day_range, words in record.ranges.items()}


CUES: dict[str, dict[str, int]] = cues_of(catalog.COMMANDS)
"""The agent's own commands' cues (the matcher reads those of the records the app was given: `intents.Vocabulary`).
Per command: phrases that point to it and how strongly (each record's `cues`). Phrases are matched longest first
and a word counts for one phrase only, so `meeting notes` is about files, not meetings. A command wins when it scores
2 or more and leads the next best by 2 or more; two commands both at 2 or more within 1 of each other are ambiguous,
and the user is asked."""

WHEN_ALONE: frozenset[str] = when_alone_of(catalog.COMMANDS)
"""Cues that count only when no other command has one: a verb that only fetches points to the files when nothing
else is named (`pull up the sales report`, not `pull up my profile`), a greeting to help (`hey`, not `hey today`)."""

EXACT: dict[str, str] = {"me": ME, "/": HELP, "?": HELP}
"""Whole messages that are a command by themselves, after any `COURTESY` words (`me`, `hey me`: `me` is a command
only so, never inside a sentence)."""

RANGES: dict[str, tuple[str, ...]] = ranges_of(catalog.COMMANDS)
"""The calendar's day ranges and the words that ask for each (its record's `ranges`). `today` is the default; a
weekday means `week` (the seven days from today, which include it); `next week` means `next` (the seven days from
now); a window of the clock (`the next couple of hours`) or a time of the day (`at 3pm`) is today (`WINDOW_LEADS`,
`CLOCK_TIMES`). A time on its own (`tomorrow?`) asks for the calendar, and so does a day with the `s` of a possessive
and no apostrophe (`tomorrows agenda`, `fridays meetings`)."""

CLOCK_UNITS: frozenset[str] = frozenset({"hour", "hours", "minute", "minutes", "mins", "hr", "hrs"})
WINDOW_LEADS: frozenset[str] = frozenset({"next", "coming", "upcoming", "in", "within", "this"})
WINDOW_COUNTS: frozenset[str] = frozenset({
    "a", "an", "the", "few", "couple", "of", "half", "several", "one", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "eleven", "twelve"})
WINDOW_AFTER: tuple[str, ...] = ("ahead", "or so", "from now")
"""A window of the clock is today (`the next hour`, `in the next couple of hours`, `within 30 minutes`): a unit of the
clock with only counts (`WINDOW_COUNTS`, a number of twelve or less) between it and a word that leads a window, and
maybe words that close one (`WINDOW_AFTER`); not a `next` range, which is the next seven days. Without a lead word
(`office hours`, `log my hours`) it is no window."""

PERIODS: frozenset[str] = frozenset({"week", "days", "few", "couple"})
"""Words that make a `next` range a period after a day (`next week`, `the next few days`), not the next thing on it
(`next meeting`, `coming up`)."""

CLOCK_TIMES: tuple[str, ...] = (r"\d{1,2}(:\d\d)?(am|pm)", r"\d{1,2}:\d\d", "noon", "midday")
CLOCK_TIME_AFTER: frozenset[str] = frozenset({"at", "by", "around", "before", "after", "until", "till"})
CLOCK_TIME_CLOSERS: frozenset[str] = frozenset({"am", "pm", "oclock", "o'clock"})
"""A time of the day (`3pm`, `14:30`, `noon`; a number of 24 or less after `at` and the like, or before `pm`) names
today, when no other day is named (`tomorrow at 3pm` is tomorrow)."""

UNPLACED_DATES: tuple[str, ...] = (
    "yesterday", "last", "ago", "past", "passed", "week after next", "after next", "day after", "after tomorrow",
    "two weeks", "three weeks",
    "few weeks",
    "couple of weeks", "couple weeks", "several weeks", "2 weeks", "3 weeks", "month", "months", "year", "years",
    "fortnight",
    "january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    # holidays: a day of the year, never one of the calendar's ranges
    "christmas", "xmas", "new year", "new years", "new year's", "easter", "thanksgiving", "diwali", "eid", "holi",
    # terms of a year
    "semester", "trimester", "term", "spring", "summer", "autumn", "winter", "quarter",
    "halloween", "hanukkah", "ramadan", "boxing day", "good friday", "valentines", "valentine's", "labor day",
    "labour day", "memorial day", "independence day", "bank holiday", "public holiday", "the holidays",
)
"""Days the calendar has no range for: asked with the calendar, they are not run (showing another day would be a
wrong answer), and the calendar is suggested. `may` is left out: it is more often a verb."""

EVENTS: frozenset[str] = frozenset({
    "meeting", "meetings", "call", "calls", "appointment", "appointments", "event", "events", "one", "thing", "slot",
    "lecture", "lectures", "seminar", "session", "shift", "review", "standup", "sync", "visit", "visits", "huddle"})
"""What a calendar holds: `last` before one is the last of a day's (`my last meeting today`), not a day past
(`UNPLACED_DATES`), and `next` a word before one is the next of them (`my next committee meeting`)."""

UNPLACED_DATE_PATTERNS: tuple[str, ...] = (r"\d+(st|nd|rd|th)", r"\d{1,4}[/.-]\d{1,2}([/.-]\d{1,4})?",
                                          r"q[1-4]", r"h[12]", r"fy\d{2,4}", r"[+-]\d+d")
"""Dates written as numbers (`the 14th`, `12/14`, `-2d`) and quarters, halves and fiscal years (`my calendar for
Q1`), whole words only."""

NEGATIONS: frozenset[str] = frozenset({"not", "never", "skip", "forget", "stop"})
"""Never run what the user said not to do (contractions are spelled out above), nor what they said to skip. `not`
closing a question (`am i free or not`) is not one."""

NOT_NEGATING: tuple[str, ...] = ("or not", "do not disturb",
                                 *(f"forget {whose} {held}" for whose in ("my", "your", "the")
                                   for held in ("token", "tokens", "credentials", "login", "sign in")))
"""Phrases with a negation in them that negate nothing (`forget my credentials` signs out)."""

NOT_TO_RUN: tuple[str, ...] = (
    *sorted(NEGATIONS), "no need", "no thanks", "not needed",
    # things the agent cannot do, wherever they stand: showing the calendar instead would be a command nobody asked for
    "schedule a", "schedule an", "schedule new", "set up a", "find time", "find a time", "best time", "time to meet",
    # someone else's availability or day (`*` is one word `KNOWN` does not hold, a name): `is tomorrow free` is ours
    "is * free", "is * busy", "is * available", "is * doing", "does *", "is * in a", "is * in the", "is * on a",
    "is * online", "is * away", "is * around", "is * out", "someone else", "other people",
    # someone named by their role (`when is the provost free next week`, `what meetings does my PI have`)
    "does my * have", "is my * free", "is my * busy", "is my * available", "is my * around",
    # telling someone something (`let my manager know I'm running late`)
    "let * know", "let the * know", "let them know", "let him know", "let her know", "let everyone know",
    "let the team know", "let the group know",
    *(f"let my {someone} know" for someone in ("manager", "boss", "supervisor", "lead", "team", "colleagues")),
    "inform my", "tell my manager", "tell my boss", "tell my team", "ping my",

    # the same in a statement's word order (`Sofia is in office today?`)
    "* is in", "* is out", "* is free", "* is busy", "* is available", "* is online", "* is away", "* is off",
    # a room's calendar, not the user's (`the meetings of the room B12`)
    "of the room", "for the room", "of room", "for room", "room calendar", "rooms calendar",
    # who else is where the user is: people the profile does not show (`who is in my department`)
    "who is in my", "who is on my", "who else", "who are my", "who works in", "who works on", "who works with",
    # the user's presence set, not shown: the agent only reads it
    "go offline", "go online", "go invisible", "status to",
)
"""A message with one of these anywhere is not run: it gets the help card instead, with a suggestion if a cue of the
message points to one."""

REFUSALS: tuple[str, ...] = ("no", "nah", "nope")
"""A request that starts with one of these refuses (`no calendar pls`)."""

NOT_TO_RUN_FIRST: tuple[str, ...] = (
    "how do i", "how can i", "how to", "cancel", "delete", "remove", "create", "make", "add", "book", "send", "share",
    "email", "mail", "message", "text", "call", "upload", "download", "move", "rename", "edit", "invite", "accept",
    "decline", "reschedule", "remind", "write", "reply", "forward", "print", "join", "change", "update",
    "appear", "postpone", "prepone", "push",
    # a refusal (`no calendar pls`, `nah, not now`)
    *REFUSALS,
)
"""Asking how, asking for something the agent cannot do, or refusing: not run when the message starts with it, after
any of the `COURTESY` words (`can you cancel my 3pm`). Inside a sentence these words are often nouns (`the call
notes`)."""

ACTIONS: frozenset[str] = frozenset({
    "set", "mark", "block", "book", "cancel", "delete", "remove", "rename", "upload", "download", "reschedule",
    "decline", "accept", "forward", "invite", "send", "share", "create", "move", "change", "update", "add", "edit",
    "log", "clear", "remind", "print", "join", "put", "save", "organize", "organise", "arrange", "reserve",
    "approve", "reply", "respond", "assign", "mute", "snooze", "notify", "restore", "transfer", "attach",
    "summarize", "summarise", "translate", "turn", "switch", "toggle", "enable", "disable", "unlink",
    # moving a meeting or a file in other words (`prepone`: Indian English for moving earlier)
    "prepone", "postpone", "push", "delay", "extend", "shorten", "rsvp", "reject", "archive", "duplicate", "copy",
    "pin", "unpin",
    # a shift worker's (`swap my shift`, `clock me out`), and a command line's (`rm`, `mv`)
    "swap", "trade", "cover", "clock", "rm", "del", "mv", "cp",
})
"""Verbs of things the agent does not do (it only reads): asked for, the message is not run (`please block my calendar
tomorrow`) and the answer says what the agent can do; those that are nouns too only where a verb stands
(`ACTION_NOUNS`). Not a request after a word that makes them a
question about the past (`ACTIONS_NOT_ASKED_AFTER`: `what files did i change`), nor inside a cue (`log out`)."""

GIVING: frozenset[str] = frozenset({"share", "send"})
GIVEN_TO: frozenset[str] = frozenset({"to", "with"})
"""Verbs of giving that, given to the user alone (`kindly share me today's schedule`, `send me my files`), ask to be
shown (`show me`), as many say it; given to someone else after `GIVEN_TO` (`share the deck with megan`) they stay
actions the agent does not do."""

GIVING_ASKED_AFTER: frozenset[str] = frozenset({"kindly", "please"})
"""`kindly share the report`, `please share my profile details`, given to nobody, asks to be sent it, as many write
it: shown."""

TO_MAKE: frozenset[str] = frozenset({"a", "an", "and"})
"""After `send me`: something to make and send (`a reminder`, `an invite`), or someone else given it too (`and
diego`): an action still."""

ACTION_NOUNS: frozenset[str] = frozenset({
    "set", "mark", "block", "book", "log", "update", "change", "share", "move", "print", "save", "clear", "put",
    "edit", "reply", "transfer", "invite", "upload", "download", "reserve", "decline", "forward", "add", "join",
    "mute", "restore", "switch", "push", "delay", "copy", "pin", "archive", "swap", "trade", "cover", "clock",
})
"""Verbs of `ACTIONS` that are nouns or adjectives too (`the weekly update`, `the share price report`, `the change
log`, `a calendar invite`): an action only where a verb stands (`skills/intents/`), else a word like any other, kept
in a file search. The other actions are verbs wherever they stand (`cancel`, `delete`)."""

VERB_BEFORE: frozenset[str] = frozenset({
    "please", "kindly", "just", "to", "you", "i", "we", "can", "could", "would", "will", "should", "must", "and",
    "then", "also", "let me", "help me", "let us", "lets",
})
"""Words after which a word stands where a verb does (`can you update`, `i want to share`, `and then change`)."""

ACTED_ON: frozenset[str] = frozenset({
    "it", "them", "this", "that", "these", "those", "my", "the", "a", "an", "all", "everything", "me", "him", "her",
    "us", "our", "your", "his", "their",
})
"""Words that start what a verb acts on: before one, a verb that is a noun too is a verb (`update my number`,
`share the deck`, `move it`)."""

ACTIONS_NOT_ASKED_AFTER: frozenset[str] = frozenset({"did", "have", "has", "had", "did i", "have i", "did we",
                                                     "have we", "did you", "do i", "am i", "is it"})
"""One or two words that make the action verb after them a question about what was done, not a request."""

FILLERS: frozenset[str] = frozenset({
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "like", "basically", "actually", "literally", "kinda",
    "sorta", "well", "oh", "yeah", "yep", "alright", "anyway", "anyways"})
"""Words said while thinking, as dictation writes them down: never a name nor a search term, and a request may start
with them (`um my files please`)."""
AGENT_NAMES: tuple[str, ...] = ("graph productivity", "graph", "copilot", "bot", "agent")
AGENT_NAME_WORDS: frozenset[str] = frozenset(word for name in AGENT_NAMES for word in name.split())
GREETINGS: tuple[str, ...] = ("hey", "hi", "hello", "ok", "okay", "yo")
"""The agent called by its name, after a greeting or not, as people talk to assistants (`hey graph`, `ok copilot`,
`@Graph Productivity`): a request may start with it."""

SALUTATIONS: tuple[str, ...] = ("dear", "hi", "hello", "hey", "good morning", "good afternoon", "good evening",
                                 "greetings")
SIGN_OFFS: tuple[str, ...] = ("regards", "kind regards", "best regards", "warm regards", "best", "thanks",
                              "thank you", "many thanks", "cheers", "sincerely", "yours", "br", "rgds")
"""A request written as a letter (`Dear Graph, please find the leave policy. Regards, Muriel`): the salutation up to
its comma and the sign-off with the name after it are not part of what is asked."""

COURTESY: tuple[str, ...] = (
    "please", "can you", "could you", "would you", "will you", "so", "and", *GREETINGS,
    *AGENT_NAMES, *(f"{greeting} {name}" for greeting in GREETINGS for name in AGENT_NAMES),
    "i want to", "i need to", "i would like to", "help me", "go", "kindly", "just", "do the needful",
    "remind me who", "remind me what", "remind me when", "remind me where", "remind me which", "remind me of",
    "are you able to", "would you be able to", "will you be able to", "is it possible to", "are you able",
    "be so kind to", "be so kind as to", "please be so kind to", "would you be so kind to",
    "would you be so kind as to",
    "do needful", *sorted(FILLERS),
)
"""Words a request may start with before its verb."""

FAREWELLS: tuple[str, ...] = ("see you", "see ya", "talk to you", "speak to you", "catch you", "bye", "goodbye",
                               "later then",
                               # small talk
                               "how are you", "how is it going", "hows it going", "how are things", "how is your",
                               "how was your", "have a nice", "have a good", "have a great", "enjoy your", "tgif",
                               # a day's end, said before a request (`that's all for today, please log me out`)
                               "that is all", "i am done", "i am finishing", "i am off", "heading out",
                               *(f"is it {day} yet" for day in ("monday", "tuesday", "wednesday", "thursday",
                                                                 "friday", "saturday", "sunday", "the weekend")))
"""A day or a time in a farewell or small talk is when the user will see someone or how their day goes (`see you at
4`, `how are you doing today`), not a calendar to show."""

VALUE_QUESTIONS: tuple[str, ...] = ("what is the", "what are the", "how is the", "how are the", "what was the",
                                    "how much is the")
"""Questions of a value (`what is the share price today`): of a thing the agent does not know, no calendar."""

CLOSING_COURTESY: frozenset[str] = frozenset({"please", "thanks", "thank", "you", "sir", "asap"})
"""Words a request may end with after what it asks (`calendar next please`)."""

OTHERS_POSSESSIVE_EXCEPT: frozenset[str] = frozenset(
    {"today", "tomorrow", "tonight", "week", "weekend", "monday", "tuesday", "wednesday", "thursday", "friday",
     "saturday", "sunday", "day", "month", "year", "it", "that", "there", "here", "let", "what", "who", "where",
     "yesterday",
     "how", "everyone"})
"""`X's` is someone else's (`megan's calendar`) unless X is one of these (`tomorrow's meetings`, `it's`)."""

POSSESSIVE_AFTER: frozenset[str] = frozenset({"this", "next"})
"""Words after which a day with an `s` is its possessive even where the plural is a word too (`this weeks
calendar`, not `weeks`)."""

OTHERS_BEFORE_PERSONAL: frozenset[str] = frozenset({"your"})
"""Words that make the thing a person has after them someone else's (`what's your schedule`: the agent has none,
so it is asked of the person mentioned)."""

SAYING_WHICH_OF_MINE: frozenset[str] = frozenset({"own", "current", "present", "official", "exact", "actual",
                                                  "correct"})
"""After `my`, words that only stress that it is the user's and as it is now (`my own info`, `my current title`):
left out, so that `my title` is read."""

SAID_OF_A_THING: frozenset[str] = frozenset({
    "over", "done", "finished", "cancelled", "canceled", "moved", "late", "starting", "ending", "off", "gone", "ok",
    "fine", "running", "coming", "happening"})
"""After `'s`, words that make it `is`, not whose (`can you log me out, shift's over`)."""

THEIR: frozenset[str] = frozenset({"his", "her", "their"})
"""After the manager is named (`PEOPLE_OF_THE_PROFILE`, or whom the user reports to), these before what the card shows
of them (`SHOWN_OF_THEM`) are the manager's (`my boss name and his designation`, `my manager + their title`, `who am I
reporting to and what's their position`): the user's profile still."""
OTHERS: frozenset[str] = frozenset({"his", "her", "hers", "he", "she", "their", "theirs", "someone", "somebody",
                                    "colleague",
                                    "colleagues", "coworker", "coworkers"})
"""Words that speak of someone else's things wherever they stand (`what's her email`)."""

PERSONAL: frozenset[str] = frozenset({
    "calendar", "schedule", "agenda", "diary", "availability", "day", "email", "mail", "address", "profile",
    "manager", "boss", "phone", "number", "title", "contact", "details", "status", "presence", "office", "info",
    "information", "department", "role", "job", "picture", "photo", "supervisor", "superior", "designation",
    "position", "mobile", "cell", "telephone", "timetable", "plans", "name",
})
"""Things a person has: a word `KNOWN` does not hold just before one is a name (`diego email address`, `megans
schedule`), and a name after `for` or `of` with the profile or the calendar is too (`calendar for megan`)."""

READ_OF_SOMEONE: frozenset[str] = frozenset({
    "meetings", "events", "appointments", "calls", "files", "week", "presence", "org"})
"""Things the agent reads besides those of `PERSONAL` and `FILE_KINDS`: after a name's possessive without its
apostrophe (`Kevins meetings`), someone else's; one meeting is more often one named (`Sales meeting tomorrow`)."""

BEFORE_A_THING: frozenset[str] = frozenset({
    "recent", "recently", "latest", "last", "new", "newest", "upcoming", "next", "current", "shared", "own", "work",
    "old", "older", "today", "tomorrow", "email", "phone", "contact", "job", "office"})
"""Words that may stand between a possessive and the thing it has (`Kevins recent documents`, `Megans work phone`)."""

THING_BEFORE: frozenset[str] = frozenset({"the", "a", "an", "our", "my", "your", "this", "that", "these", "those"})
"""Words before a word that say it names a thing, not whose it is (`the Projects folder`)."""

NAME_AFTER: frozenset[str] = frozenset({"for", "of"})
"""Words after which a name says whose things are asked for."""

MEALS: frozenset[str] = frozenset({"lunch", "lunchtime", "breakfast", "dinner", "coffee", "break"})
"""Times of a day named by what is done then (`is my lunchtime free today`): never a name."""

PRODUCTS: frozenset[str] = frozenset({
    "aad", "entra", "azure", "ad", "m365", "o365", "microsoft", "office", "outlook", "teams", "exchange", "gal",
    "viva", "windows", "intune", "sso", "mfa"})
"""Names of Microsoft 365 and its parts, where the user's profile lives (`my AAD profile`, `my Entra ID profile`):
never a person's name."""

KNOWN: frozenset[str] = frozenset({
    *PRODUCTS, *MEALS,
    "a", "about", "after", "again", "all", "also", "am", "an", "any", "anything", "are", "as", "at", "be", "before",
    "both", "but", "by", "check", "come", "coming", "days", "do", "does", "doing", "done",
    "each", "early", "every", "first", "for", "from", "full", "get", "give", "go", "going", "good", "got", "have",
    "here", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "later", "left", "like", "list",
    "look", "looking", "looks", "lot", "many", "me", "meet", "more", "much", "my", "need", "new", "next", "no",
    "not", "now", "of", "off", "on", "one", "only", "or", "other", "our", "out", "over", "own", "please",
    "quick", "quickly", "ready", "real", "really", "right", "same", "see", "should", "show", "so", "some", "soon",
    "start", "still", "tell", "than", "that", "the", "then", "there", "these", "they", "this", "those", "to",
    "today", "too", "up", "us", "very", "want", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "would", "yes", "yet", "you", "your", "work", "mobile", "cell", "direct", "line",
    "team", "teams", "outlook", "current", "whole", "daily", "main", "personal", "business", "home", "desk",
    # words people put before a thing they have, which are not names
    "official", "primary", "registered", "exact", "correct", "company", "corporate", "immediate", "reporting",
    "account", "user", "actual", "complete", "entire",
    # people the profile does not name whose words are one typo from another's (`ahead`, `directory`)
    "head", "director",
    # the past of a negation is no negation (`i forgot, who's my manager`)
    "forgot",
    # words a name is made of that are one typo from a request verb (`the user research findings`)
    "research",
    # ways of addressing and of urging, which are not names (`my calendar Monday Sir`)
    "sir", "madam", "maam", "mam", "mate", "dude", "buddy", "bro", "dear", "asap", "urgent", "urgently",
    # time zones, which a time of the day may be given in
    "utc", "gmt", "bst", "cet", "cest", "ist", "est", "edt", "cst", "cdt", "pst", "pdt", "aest",
})
"""Everyday words, besides every word in the tables above: never a name, and never read as a typo of another word."""

REQUEST_VERBS: tuple[str, ...] = (
    # of formal English (`could you please provide a list of my files`) and of a command line (`grep`, `ls`)
    "provide", "display", "fetch", "retrieve", "bring", "grab", "return", "produce", "check", "tell", "grep", "ls",
    "dir")
"""Verbs a request for files is made with, never searched for before the name starts, but part of it inside
(`IN_A_NAME`: `the christmas window display brief`)."""

FILE_QUERY_IGNORES: frozenset[str] = frozenset({
    "a", "an", "the", "my", "me", "i", "mine", "our", "your", "you", "for", "about", "called", "named", "titled",
    "with", "on", "in", "of", "to", "from", "please", "can", "could", "would", "will", "show", "find", "search",
    "look", "up", "locate", "where", "is", "are", "was", "were", "get", "give", "open", "pull", "list", "see", "view",
    "any", "some", "all", "that", "which", "ones", "one", "there", "have", "has", "had", "been", "be", "did", "do",
    "recent", "recently", "latest", "last", "lately", "newest", "new", "changed", "edited", "modified", "updated",
    "save", "saved", "put", "touched", "working", "worked", "work", "file", "files", "document", "documents",
    "spreadsheet", "spreadsheets", "sheet", "sheets", "deck", "decks", "presentation", "presentations", "slides",
    "pdf", "csv", "excel", "word", "powerpoint", "workbook", "workbooks", "onedrive", "sharepoint", "folder", "folders",
    "stuff", "things", "thing", "what", "paperwork", "materials",
    "hey", "hi", "just", "quickly", "now", "today", "yesterday", "tomorrow", "this", "week", "month", "and", "or",
    "it", "at", "need", "want", "like", "let", "lets", "us", "help", "by", "ok", "okay", "so", "kindly", "hello",
    "thanks", "am", "looking", "searching", "touch", "opened", "viewed", "accessed", "created", "store",
    "stored", "no",
    # what the user did to a file: recency, not what it is called (`what have i been editing`)
    "edit", "editing", "modify", "modifying", "touching", "viewing", "accessing", "changing", "updating", "saving",
    "earlier", "previously", "them", "dig", "needful", "through", "thru",
    *REQUEST_VERBS,
    # whose: the user and those with them (`do we have a doc on parental leave`)
    "we", "they",
    # how many, which says which files, not what they are called (`the last few files`, `anything on the recall`)
    "few", "couple", "several", "handful", "bunch", "anything", "something", "everything", "whatever", "most",
    "least", "kind", "archives",
    *FILLERS, *AGENT_NAME_WORDS,
})
"""Words that are never part of what a file search looks for (`find the budget spreadsheet` searches `budget`);
with nothing left, `/files` shows the recent files."""

FILE_QUERY_NOUNS: frozenset[str] = frozenset({"list", "new", "latest", "newest", "store", "work", "paperwork",
                                              "materials"})
"""Words left out of a search before what it looks for, where they ask or say which (`list my files`, `any new
files`, `the latest budget`, `where did i store`, `recent paperwork`), but part of it after, where they are part of
a name (`the price list`, `the deck for new hires`, `the app store screenshots`, `the remote work policy`, `the
training materials`)."""

IN_A_NAME: frozenset[str] = frozenset({
    "all", "every", "open", "show", "find", "search", "look", "get", "view", "pull", "list", "dig",
    "today", "tomorrow", "week", "month", "work", "working", "opening", "store", *REQUEST_VERBS})
"""Request verbs, quantifiers and days, which ask which file or say when before its name starts (`show all files`,
`open my documents`, `the budget from this week`), but are part of a name after `the` or inside it, when a word a
search looks for follows (`the all hands deck`, `the open issues list`, `the team get together notes`, `the week 12
timesheet`, `the lone working risk assessment`). Not words of recency: `the latest roadmap`."""

WORDS_OF_ONE_NAME: tuple[str, ...] = (
    "clock in", "clock out", "check in", "check out", "sign in", "log in", "opt in", "opt out", "roll out",
    "follow up", "set up", "hand over", "drop off", "pick up", "carry over", "sign off", "log on", "catch up",
    "wrap up", "kick off", "sign up", "stand up", "out of office", "work from home", "end of year", "end of month",
    "run of show", "month end", "year end", "quarter end",
    "day in the life", "point of contact")
"""Verbs with their particles and phrases that are one thing: inside the name of a thing searched for, all their
words are the name's (`the clock in instructions`, `the out of office rota`), none a word a search leaves out."""

NUMBERED: frozenset[str] = frozenset({"week", "day", "month", "year", "quarter", "sprint", "phase", "wave", "round",
                                      "module", "unit", "part"})
"""Before a number, part of a name, never when (`search files for week 3 retro`)."""

NAME_STARTS: frozenset[str] = frozenset({"new"})
ASKING_WHICH: frozenset[str] = frozenset({"any", "some", "all", "every"})
"""Words of `FILE_QUERY_NOUNS` that start a name before a word a search looks for (`new york office photos`, `new
hire onboarding`), but say which files before a kind of file (`new documents`) or after a word that asks which
(`ASKING_WHICH`: `any new budget files`)."""

SUGGESTIONS: dict[tuple[str, str], str] = {
    (CALENDAR, "today"): "What's on my calendar today?",
    (CALENDAR, "tomorrow"): "What's on my calendar tomorrow?",
    (CALENDAR, "week"): "My meetings this week",
    (CALENDAR, "next"): "What's coming up?",
    (ME, ""): "Who's my manager?",
    (FILES, ""): "Files I changed recently",
    (LOGOUT, ""): "Sign me out",
    (HELP, ""): "What can you do?",
}
"""How a suggestion or a question names each command, in the user's own words (a file search: `Find "budget"`)."""

FILE_KINDS: frozenset[str] = frozenset({
    "file", "files", "document", "documents", "spreadsheet", "spreadsheets", "sheet", "sheets", "deck", "decks",
    "presentation", "presentations", "slides", "pdf", "csv", "excel", "word", "powerpoint", "workbook", "workbooks",
    "folder", "folders", "paperwork", "materials", *catalog.DOCUMENT_KINDS})
"""Words that say a document is meant (`the tasks spreadsheet`, `the news report`)."""

EXTENSIONS: dict[str, str] = {
    "docx": "document", "doc": "document", "xlsx": "excel", "xls": "excel", "xlsm": "excel", "csv": "csv",
    "pptx": "powerpoint", "ppt": "powerpoint", "pdf": "pdf", "txt": "document", "md": "document", "rtf": "document",
    "one": "document", "vsdx": "document", "odt": "document", "ods": "excel", "odp": "powerpoint"}
"""A word with one of these after a dot is a file's name (`pricing model.xlsx`): the name, then the kind it says."""

NOT_READ: tuple[str, ...] = (
    "task", "tasks", "todo", "todos", "to do list", "planner", "emails", "mails", "inbox", "mailbox", "unread",
    "chats", "messages", "news", "notifications", "cafeteria", "canteen", "what is for lunch",
    "trending", "social media", "on social",
    # the business's own figures (`what's our occupancy tonight`, `how many covers are booked`)
    "occupancy", "covers", "our revenue", "our sales", "our numbers",
    "what is for dinner", "what is for breakfast",
    "check email", "check my email", "check mail", "check my mail", "read my email", "read my mail", "new email",
    "new mail", "any email", "any mail", "email from", "mail from", "to my email", "to my mail", "to my message",
    "to my messages",
    "weather", "rain", "snow", "sunny", "temperature", "stock", "stocks", "share price", "exchange rate", "traffic",
)
"""Things the agent does not read (it reads the profile, the calendar and the files): a message about one is not run
and is answered that the agent cannot do it (`what are my tasks for today` is not the calendar), unless it asks for a
document about one (`FILE_KINDS`: `find the tasks spreadsheet`). `email` alone is the user's address (`my email`),
but mail to read is not (`check my email`)."""

MENUS: tuple[str, ...] = ("menu", "menus")
"""A menu is read only as a document searched for by name or kind (`find the brunch menu`, `menu costing spreadsheet`),
never asked of a day (`lunch menu today`): not run then, as a thing the agent does not read."""

SEARCHED_NOT_READ: tuple[str, ...] = tuple(
    f"{where} {whose}{place}" for where in ("search", "in", "from", "through")
    for whose in ("", "my ", "our ")
    for place in ("email", "emails", "mail", "mails", "inbox", "mailbox", "chats", "teams chat", "messages"))
"""Places the agent does not read, named as where to look (`search my mail for invoices`, `the contract in my
inbox`): not run even for a kind of document (`NOT_READ`'s exception), since the files are not where the user
looks."""

PEOPLE_OF_THE_PROFILE: frozenset[str] = frozenset({"manager", "boss", "supervisor", "superior", "lead", "mgr", "gm",
                                                  "chief",
                                                   "chef", "leader"})
WHICH_MANAGER: frozenset[str] = frozenset({"line", "direct", "reporting", "immediate", "current", "team"})
"""Words between `my` and one of `PEOPLE_OF_THE_PROFILE` that still name the one the profile shows (`my line
manager's title`)."""
"""People the user's profile names: the answer to `who is my manager`, but someone else when their own calendar,
presence or whereabouts is asked (`is my boss free`, `is my manager in the office`)."""

PEOPLE_NOT_PROFILED: tuple[str, ...] = (
    "skip-level", "skiplevel", "skip level", "director", "department head", "team head", "head of", "ceo", "cfo",
    "cto", "coo", "vp", "vice president", "president", "colleague", "teammate", "team mate", "assistant", "hr",
    "hr rep", "recruiter", "mentor", "secretary", "deputy", "partner", "dentist", "doctor", "wife", "husband", "mom",
    "dad")
"""People the user's profile does not name (it names the manager): asked about after `my` or `the`, their day,
presence or profile is not the user's (`is my skip-level free friday`, `who is my department head`). Not all words
the matcher knows: `@Graph Assistant` is the agent's name (`KNOWN` holds those that must not be read as a typo of
another word: `head`, `director`)."""

SHOWN_OF_THEM: frozenset[str] = frozenset({"name", "title", "designation", "position", "job", "role", "function",
                                          "details", "info",
                                          "information"})
"""What the profile shows of those people: the `/me` card names the manager with their job title (`cards/profile.py`),
so `my manager's name` and `my boss's job title` are the user's profile; their phone, email, office or department
(`my boss's office location`) are theirs."""

WHEREABOUTS: frozenset[str] = frozenset({
    "free", "busy", "available", "availability", "away", "online", "offline", "status", "presence", "doing",
    "where", "office", "around", "leave", "vacation", "holiday", "sick", "desk", "back", "in", "out", "at"})
"""Words that ask where someone is or whether they are free: about one of `PEOPLE_OF_THE_PROFILE`, they ask of
that person, not of the user."""

AUTHORED: frozenset[str] = frozenset({
    "created", "made", "wrote", "written", "shared", "edited", "modified", "updated", "uploaded", "authored", "sent",
    "prepared", "drafted", "owned", "owns", "changed", "saved", "posted", "worked", "downloaded", "received",
    "reviewed", "commented", "printed", "signed", "renamed", "copied", "used"})
NOT_SOMEONE_ELSE: frozenset[str] = frozenset({"i", "me", "myself"})
ASKING_WHOM: frozenset[str] = frozenset({"who", "whom"})
DOING: frozenset[str] = frozenset({"do", "does", "did"})
"""`who does Mark report to`: whoever stands after the last of these before `report to` is the one asked of
(`skills/intents/`); only the user (`NOT_SOMEONE_ELSE`) is the user's profile."""
OTHER_AUTHORS: frozenset[str] = frozenset({
    "team", "we", "us", "they", "he", "she", "others", "people", "everyone", "someone", "somebody", "colleague",
    "colleagues", "coworker", "coworkers", "manager", "boss", "supervisor"})
OWNED_BY: frozenset[str] = frozenset({"of", "from", "by", "for"})
"""Before someone named by what they are to the user (`PEOPLE_OF_THE_PROFILE`, `PEOPLE_NOT_PROFILED`, after
`THING_BEFORE`), files are theirs (`files of my teammate`, `the docs from my manager`), not the user's own to search;
unless the person names what the files are about (`the notes from my manager sync`)."""
WHEN_DONE: frozenset[str] = frozenset({"recently", "lately", "last", "earlier", "previously", "just"})
"""Before one of `AUTHORED`, when it was done to the files (`my documents recently used`): which files, not their
name."""
WITH_THE_USER: frozenset[str] = frozenset({"i", "me"})
BY_THE_USER: frozenset[str] = frozenset({"i", "ive", "i've", "myself"})
"""Someone else's files: a name or others (`OTHER_AUTHORS`) before one of `AUTHORED`, maybe with the user (`and`
and one of `WITH_THE_USER`: `the deck megan made`, `files my team shared`, `the files tom and i worked on`), or
someone after one and `by` (`files shared by diego`); the user is not someone else (`NOT_SOMEONE_ELSE`: `files made
by me`); one of `AUTHORED` after the user (`BY_THE_USER`: `docs i made`) or before `by me` says which files,
not what they are called. Files shared `with` anyone are not the user's own to search either (`files shared with
me`)."""

SEARCH_LEADS: tuple[str, ...] = ("find", "search for", "search", "look for", "looking for", "look up", "locate",
                                 "dig out",
                                 "find me", "grep", "grep for", "search my files for", "grep my files for",
                                 "search onedrive for", "dig up", "get me",
                                 "show me")
BARE_SEARCH_LEADS: tuple[str, ...] = ("search", "search for")
"""Leads of `SEARCH_LEADS` that name a thing to search for with or without `the` (`search calendar migration plan`):
the agent searches nothing but files."""
ASKING_LEADS: tuple[str, ...] = ("get me", "show me")
"""Leads of `SEARCH_LEADS` that ask for anything shown or fetched (`show me the way`): a file search only for a thing
named like `WHERE_LEADS` want it (`get me the price list`, `show me the Q1 OKRs`)."""
WHERE_LEADS: tuple[str, ...] = ("where is", "where are", "where can i find", "where do i find")
"""Asking where a thing is (`where is the vacation tracker`) searches for it like `SEARCH_LEADS` do, when the thing
has two words of its own or a kind of file (`FILE_KINDS`) and is no person nor place (`NOT_A_THING`,
`PEOPLE_NOT_PROFILED`: `where is the office`, `where is the ceo` are not files)."""
THING_STARTS: frozenset[str] = frozenset({"the", "our"})
"""A message that starts with one of `SEARCH_LEADS` (after `COURTESY`) and then `the` is a file search for what
follows: the name of a thing, in which words of other commands and of actions are part of the name (`find the
sign out sheet`, `search for the delete request form`), as long as it names something besides them (`find the next
meeting` is not)."""
WHOSE_BEFORE: frozenset[str] = frozenset({"of", "for", "with", "from"})
"""Words after which a word may say whose a thing is, or who else is in it (`the profile of megan`, `the meeting
with diego`), not what the thing is."""
NOT_A_THING: frozenset[str] = frozenset({
    "time", "times", "slot", "slots", "available", "availability", "free", "busy", "room", "rooms", "who", "whom",
    "whose", "person", "someone", "somebody", "web", "internet", "google", "bing"})
"""Words that make a search (`SEARCH_LEADS`) look for no file, unless a kind of file is named too: a time or a
room to book, a person, the web (`find the next available time`; but `the time off request form`)."""

DAYS_AND_WORDS: frozenset[str] = frozenset({"sat", "sun", "wed", "mon", "now"})
DAY_BEFORE: frozenset[str] = frozenset({"on", "for", "this", "next", "by", "until", "till", "from", "through",
                                        "thru", "before", "after", "anything"})
"""Short names of days that are words too (`i sat in`, `the sun`), and `now`: a day only after a word that names a
day (`DAY_BEFORE`: `on wed`, `anything sat`) or with a cue of the calendar (`wed meetings`, `free now?`; not `what
now`)."""
ASKING_WHICH_THING: frozenset[str] = frozenset({"what", "which", "whats"})
BELONGING_IN: frozenset[str] = frozenset({"in", "on", "under"})
"""`what department is megan in`: where someone who is not the user belongs (`is`, not `am i`)."""
ASKING_WHO: frozenset[str] = frozenset({"who", "whom", "whose"})
"""Asked about files, a question of who (`who does this deck belong to`) asks for a person, not a file."""
WITH_SOMEONE: frozenset[str] = frozenset({"with", "and"})
"""After these a name is someone the user meets, not whose calendar it is (`my meeting with Diego today`)."""
REQUEST_STARTS: frozenset[str] = frozenset({
    *(phrase.split()[0] for phrase in (*COURTESY, *SEARCH_LEADS)), "what", "whats", "what's", "who", "whos", "who's",
    "when", "whens", "where", "wheres", "where's", "which", "how", "is", "am", "are", "do", "does", "show", "my",
    "list", "open", "get", "pull", "sign", "log", "recent", "any", "tell", "give"})
"""Words a request starts with: after the agent's `@` and a word no cue knows, that word was the agent's name too
(`@graph assistant find the deck`)."""
