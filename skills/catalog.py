"""Every command the agent has, one record each: what it is called, what it needs and says, how it reads Graph and
shows the result, and how Copilot Studio and plain words reach it. The routes, the help card, the skill manifest and
its actions, the matcher's per-command phrase tables and the Teams app's command menu are all made from `COMMANDS`;
a new command is one record here plus its `graph/` call and its `cards/` function.

This module imports no other skill module, so `skills/phrases.py` can read the records without a cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

from microsoft_agents.activity import Activity

from cards.calendar import calendar_card, calendar_text
from cards.common import card_activity
from cards.files import files_card, files_text
from cards.help import CommandHelp
from cards.profile import profile_card, profile_text
from graph.calendar import DAY_RANGES, DayRange, get_calendar, next_calendar_page, next_page_from
from graph.client import GraphClient
from graph.files import page_start, recent_files, search_files
from graph.models import CalendarPage, FilesPage, Profile
from graph.profile import get_profile


@dataclass(frozen=True)
class Command:
    """What the user asked: `name` without slash, lower case; `args` as typed; `value` a card button's data;
    `chat_zone` the chat's own time zone (Teams' `localTimezone`), when it sent one."""

    name: str
    args: str
    value: dict[str, Any]
    chat_zone: str | None = None


class NotTaken(Exception):
    """The command's arguments are not ones it takes: the message, sent as the answer, says which it does take."""


Fetch = Callable[[GraphClient, str, Command], Awaitable[Any]]
"""A typed or clicked command's Graph work: (graph, the user's token, the command) → a `graph.models` result."""
ActionFetch = Callable[[GraphClient, str, dict[str, Any]], Awaitable[Any]]
"""A skill action's Graph work: (graph, the user's token, the event's checked value) → a `graph.models` result."""


@dataclass(frozen=True)
class SkillAction:
    """An event Copilot Studio may send the skill: its input (`value`, a JSON schema the manifest publishes and every
    event is checked against), the `graph.models` type its result serializes, and the Graph work that makes it."""

    name: str
    description: str
    value: dict[str, Any]
    result: type
    fetch: ActionFetch


@dataclass(frozen=True)
class CommandRecord:
    """One command. Without `fetch` it reads no Graph data and has a route of its own (`/logout`, `/help`)."""

    name: str
    """Typed after the slash; also the name the matcher, the spans and the logs use."""
    help: str
    """Its line on the help card, and in the Teams command menu unless `menu` says otherwise."""
    example: str | None = None
    """Shown after the help line."""
    arguments: str = ""
    """How its arguments are written in a usage line (`[range]`)."""
    menu: str = ""
    """The Teams command menu's description, where the help line would not read right."""
    permissions: tuple[str, ...] = ()
    """The delegated Graph permissions it needs, as the README, `.env.example` and `docs/deploy.md` list them."""
    working: str = ""
    """Shown while Graph takes more than a moment (`skills/progress.py`)."""
    fetch: Fetch | None = None
    """Its Graph work when typed or clicked; a `NotTaken` it raises is the answer."""
    card: Callable[[Any], Activity] | None = None
    """The answer (a card with its fallback text) made from what `fetch` returned."""
    action: SkillAction | None = None
    """The Copilot Studio skill action that returns the same data, if it has one."""
    cues: Mapping[str, int] = field(default_factory=dict)
    """Plain-words phrases that point to it, with their weight (`skills/phrases.py` says how they are matched)."""
    when_alone: frozenset[str] = frozenset()
    """Cues that count only when no other command has one (`phrases.WHEN_ALONE`)."""
    ranges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Arguments that plain words name, with the phrases that name each (`phrases.RANGES`). Only the calendar has them:
    the matcher's rules for a named day are the calendar's (`skills/intents.py`)."""

    @property
    def command(self) -> str:
        return f"/{self.name}"

    @property
    def usage(self) -> str:
        return f"{self.command} {self.arguments}".strip()

    @property
    def help_line(self) -> CommandHelp:
        return CommandHelp(self.command, self.help, self.example)


# ── /me ──────────────────────────────────────────────────────────────────────────────────────────────────────────────

def _profile_answer(profile: Profile) -> Activity:
    return card_activity(profile_card(profile), profile_text(profile))


ME = CommandRecord(
    name="me",
    help="Your profile: title, contact details, manager and presence.",
    permissions=("User.Read", "User.Read.All", "Presence.Read"),
    working="Reading your profile…",
    fetch=lambda graph, token, _command: get_profile(graph, token),
    card=_profile_answer,
    action=SkillAction("GetProfile", "The user's profile: name, job, contact details, photo, manager and presence.",
                       {"type": "object", "additionalProperties": False}, Profile,
                       lambda graph, token, _value: get_profile(graph, token)),
    cues={
        "my profile": 4, "profile": 3, "who am i": 4, "whoami": 4, "about me": 3, "about myself": 3, "myself": 2,
        "my manager": 4, "manager": 2, "my boss": 4, "boss": 2, "report to": 3, "manages me": 3, "my title": 4,
        "job title": 4, "my job": 3, "my role": 3, "my department": 4, "department": 2, "my email": 3,
        "email address": 3,
        "my phone": 4, "phone number": 3, "my contact": 4, "contact details": 3, "contact information": 3,
        "contact card": 3, "my card": 3, "profile card": 4, "my details": 4, "my information": 3, "my presence": 4,
        "presence": 2, "my status": 3,
        # presence as Teams shows it (`am i showing busy`, `available in teams`)
        **{f"{shown} {state}": 5 for shown in ("showing", "showing as", "marked", "marked as", "show as", "shown as",
                                                "coming up as", "showing up as", "come up as",
                                                "appear", "appearing", "appearing as", "set to", "show up as")
           for state in ("available", "busy", "away", "offline", "green", "red", "yellow", "do not disturb")},
        **{f"{state} {where} teams": 5 for where in ("in", "on")
           for state in ("available", "busy", "away", "offline", "green", "red", "yellow")},
        # what the directory has for the user (`what number do you have for me`), where they sit
        **{f"{held} do you have for me": 4 for held in ("number", "email", "title", "name", "phone", "address",
                                                        "department", "office", "manager", "location")},
        "where do i sit": 3, "where i sit": 3,
        # as other languages say it (`my chief`, `my function`, `my card of visit`, `from whom i depend`)
        "me down as": 3, "am i down as": 4, "am i listed": 3, "look me up": 3, "my extension": 4,
        "extension am i": 3, "phone extension": 3, "user information": 3, "user card": 3, "business phone": 3,
        "availability status": 3, "title do i have": 3,
        "my chief": 4, "my chef": 4, "my gm": 4, "my function": 3, "my post": 3, "personal card": 3, "business card": 3,
        "visit card": 3, "my coordinates": 3, "contact coordinates": 3, "i depend": 3, "depend on": 2,
        "show up as": 3, "my org chart": 4, "in the org chart": 3, "who i am": 3, "above me": 3, "my lead": 3,
        "my team lead": 4,
        "team leader": 3, "employee profile": 4,
        "my office": 3, "office location": 3, "my desk": 3, "desk location": 3, "directory entry": 3,
        "my directory": 3,
        **{f"{which} {place} am i {where}": 4 for which in ("which", "what")
           for place in ("office", "department", "team", "location", "status", "site", "building", "floor", "division",
                         "unit", "branch")
           for where in ("in", "on", "part of", "based in", "at", "listed under", "listed in", "listed at",
                         "down as working from", "down as based in", "down as", "assigned to",
                         "supposed to be in", "supposed to be at")},
        "my org": 3, "org information": 3, "org details": 3,
        # what people call these things in Microsoft 365 and in their companies
        "supervisor": 2, "my supervisor": 4, "superior": 2, "my superior": 4, "reporting manager": 3,
        "reporting line": 3, "reporting to": 3, "designation": 2, "my designation": 4, "my position": 3,
        "job role": 3, "my mobile": 4, "mobile number": 3, "my cell": 4, "cell number": 3, "cell phone": 3,
        "my telephone": 4, "work phone": 3, "desk phone": 3, "my number": 3, "work email": 3, "email id": 3,
        "mail id": 3, "account details": 3, "account information": 3, "user details": 3, "user profile": 4,
        "personal details": 3, "personal information": 3, "profile details": 3, "current status": 3,
        "showing as": 3, "appear as": 3, "appearing as": 3,
        # presence: how the user shows to others (the card shows it)
        "show as": 4, "teams status": 3, "status in teams": 3, "appear": 2, "appearing": 2, "offline": 3,
        "am i online": 3, "showing online": 3, "do not disturb": 4, "am i away": 3, "as away": 3,
        # where the directory lists the user, and what it calls them
        "display name": 3, "my display name": 4, "name on file": 3,
        # `on file`, `on record`: what the directory holds, not a file (`my phone number on file`)
        "on file": 1, "on record": 1, "on my account": 1,
        # what others see of the user (`what title shows up for me`, `what number do people see for me`)
        **{f"{seen} for me": 1 for seen in ("shows up", "show up", "showing up", "shown", "people see", "others see",
                                             "displaying", "is displaying",
                                             "do people see", "do others see", "displays", "displayed")},
        "phone numbers": 3, "mobile numbers": 3, "cell numbers": 3, "email addresses": 3,
        # what the directory has for the user, asked of the agent (`what title do you have for me`)
        "have for me": 1, "have on me": 1, "name": 1, "title": 1, "position": 1, "am i set to": 3, "i am set to": 3,
        "role": 2, "do i belong to": 3, "i belong to": 3, "am i based": 3, "i am based": 3, "listed as": 3,
        "listed in": 3, "in the directory": 2, "full name": 3, "my name": 3, "good name": 3, "am i reporting": 3,
        "whom i report": 3, "whom i am reporting": 3, "whom do i report": 3, "whom am i reporting": 3,
    },
)


# ── /calendar ────────────────────────────────────────────────────────────────────────────────────────────────────────

_DAY_RANGES: dict[str, DayRange] = {day_range: day_range for day_range in DAY_RANGES}


async def _calendar(graph: GraphClient, token: str, command: Command) -> CalendarPage:
    day_range = _DAY_RANGES.get(command.args.lower() or "today")
    if day_range is None:
        raise NotTaken(f"I can show your calendar for {', '.join(_DAY_RANGES)}: try `/calendar tomorrow`.")
    more = next_page_from(command.value)
    if more is not None:
        return await next_calendar_page(graph, token, more)
    return await get_calendar(graph, token, day_range, chat_zone=command.chat_zone)


def _calendar_answer(page: CalendarPage) -> Activity:
    return card_activity(calendar_card(page), calendar_text(page))


CALENDAR = CommandRecord(
    name="calendar",
    help="Your meetings, in your time zone.",
    example="/calendar tomorrow · /calendar week",
    arguments="[range]",
    permissions=("MailboxSettings.Read", "Calendars.ReadBasic"),
    working="Reading your calendar…",
    fetch=_calendar,
    card=_calendar_answer,
    action=SkillAction("GetCalendar", "The user's events in a day range, in the given time zone (else the mailbox's).",
                       {"type": "object",
                        "properties": {"range": {"enum": list(get_args(DayRange))},
                                       "timeZone": {"type": "string",
                                                    "description": "IANA or Windows time zone name."}},
                        "required": ["range"], "additionalProperties": False},
                       CalendarPage,
                       lambda graph, token, value: get_calendar(graph, token, value["range"],
                                                                time_zone=value.get("timeZone"))),
    cues={
        "calendar": 4, "meeting": 3, "meetings": 3, "do i have time": 3, "schedule": 3, "agenda": 3, "appointment": 3,
        "appointments": 3, "event": 2, "events": 3, "am i free": 4, "am i busy": 4, "am i available": 4,
        "how busy": 3, "free time": 3, "my day": 3, "what is on": 3, "anything on": 3, "what do i have": 3,
        "do i have anything": 3, "what is happening": 2, "booked": 2, "busy": 1, "free": 1, "a call": 3,
        "any calls": 3, "calls": 2, "what time is my": 3,
        # what people call these things in Microsoft 365 and in their companies
        "diary": 3, "timetable": 3, "itinerary": 2, "engagements": 2, "commitments": 2, "my plans": 3,
        "on my plate": 3, "have i got": 3, "what is planned": 3, "scheduled": 2, "in a meeting": 3,
        "on a call": 3, "on deck": 3, "what is on deck": 4,
        # teaching and its hours
        "lecture": 2, "lectures": 2, "seminar": 2, "my office hours": 4,
        # how shift workers call their calendar
        "rota": 3, "roster": 3, "my shift": 3, "my shifts": 3, "shifts": 1, "shift": 1, "working hours": 2,
        # whom the user meets (`who am i` alone is the profile)
        "who am i meeting": 5, "who am i talking to": 5, "who am i meeting with": 5,
        # where the user has to be
        **{f"{question} {need}": 3 for question in ("where", "when") for need in (
            "do i have to be", "do i need to be", "am i supposed to be", "should i be", "must i be")},
    },
    ranges={
        "tomorrow": ("tomorrow", "tomorrow morning", "tomorrow afternoon", "tomorrow evening", "tomorrow night",
                     "day after today"),
        "today": ("today", "tonight", "this morning", "this afternoon", "this evening", "my morning", "my afternoon",
                  "my evening", "right now", "now", "later today", "rest of the day", "at the moment", "day ahead"),
        "week": ("this week", "week", "rest of the week", "weekly",
                 # until a day of this week (`what do I have between now and friday`)
                 *(f"{until} {day}" for until in ("between now and", "from now until", "from now to", "now until",
                                                  "now through", "today through", "today until")
                   for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")),
                   "this weekend", "weekend", "monday",
                 "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                 # the days as they are shortened
                 "mon", "tue", "tues", "wed", "weds", "thu", "thur", "thurs", "fri", "sat", "sun"),
        "next": ("next week", "next meeting", "next meetings", "upcoming", "coming up", "what is next",
                 "next few days", "next 7 days", "next seven days", "next few", "next couple", "next appointment",
                 *(f"next {count} days" for count in ("2", "3", "4", "5", "6", "two", "three", "four", "five", "six",
                                                      "several")), "coming days",
                 "coming week", "the coming week", "week to come", "week ahead", "the week ahead",
                 # what follows, as other languages say it (`the following meetings`, `the meetings that come`)
                 "following", "following days", "following meetings", "next days", "comes next", "what comes next",
                 "that come", "that comes", "to come", "days to come", "week that comes", "following week",
                 "lined up", "next meet", "i next meet", "what is after this", "anything after this", "week after this",
                 "the week after this one",
                 "next appointments", "next call", "next calls", "next event", "next events", "next one", "ahead",
                 "coming", "coming next", "soon", "next thing", "next up", "up next", "up next week", "next item",
                 # both weeks: the seven days from now hold the rest of this one and the start of the next
                 "this week and next", "week and next",
                 # what lies ahead, in the words of a road or a pipeline
                 "on the horizon", "down the line", "down the road", "in the pipeline", "coming down the pipe",
                 # what follows the meeting the user is in now
                 *(f"after {which} {event}" for which in ("this", "my current", "the current", "my")
                   for event in ("meeting", "call", "one", "appointment")),
                 "following meeting", "following call", "one after this", "meeting after this", "call after this",
                 "next shift", "next shifts", *(f"next {event}" for event in (
                     "lecture", "lectures", "seminar", "session", "review", "standup", "sync", "visit", "huddle")),
                 "am i next on", "am i on next", "am i working next",
                 # the coming one of a day of the week: in the seven days from now
                 *(f"next {day}" for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                             "sunday", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri",
                                             "sat", "sun"))),
    },
)


DOCUMENT_KINDS: tuple[str, ...] = (
    "policy", "policies", "plan", "notes", "minutes", "template", "templates", "form", "forms", "report", "reports",
    "guidelines", "guide", "handbook", "manual", "proposal", "proposals", "invoice",
    "invoices", "memo", "memos", "spec", "specs", "summary", "checklist", "draft", "drafts", "brief", "playbook",
    "agreement", "statement", "letter", "instructions", "checklists", "sop", "sops",
    "assessment", "assessments",
    "runbook",
    "transcript", "transcripts", "procedure", "procedures",
)
"""Words that name a kind of document: one is a weak cue for the files when no other command has a cue (`get`,
`where is` with one is a search), and a message with one asks for a document even when it names a thing the agent
does not read (`the tasks report`)."""


# ── /files ───────────────────────────────────────────────────────────────────────────────────────────────────────────

async def _files(graph: GraphClient, token: str, command: Command) -> FilesPage:
    start = page_start(command.value)
    if command.args:
        return await search_files(graph, token, command.args, start)
    return await recent_files(graph, token, start)


def _files_answer(page: FilesPage) -> Activity:
    now = datetime.now(UTC)
    return card_activity(files_card(page, now), files_text(page, now))


FILES = CommandRecord(
    name="files",
    help="Your recently changed files, or a search.",
    example="/files budget",
    arguments="[query]",
    permissions=("Files.Read.All",),
    working="Looking through your files…",
    fetch=_files,
    card=_files_answer,
    action=SkillAction("GetFiles", "The user's most recently modified OneDrive files, or those matching `query`.",
                       {"type": "object", "properties": {"query": {"type": "string", "minLength": 1}},
                        "additionalProperties": False},
                       FilesPage,
                       lambda graph, token, value: (search_files(graph, token, value["query"]) if "query" in value
                                                    else recent_files(graph, token))),
    cues={
        "file": 3, "files": 3, "document": 3, "documents": 3, "spreadsheet": 3, "spreadsheets": 3, "sheet": 2,
        "deck": 3, "decks": 3, "presentation": 3, "presentations": 3, "slides": 3, "pdf": 3, "excel": 3,
        "powerpoint": 3, "word document": 3, "workbook": 3, "onedrive": 3, "sharepoint": 3, "meeting notes": 3,
        "meeting minutes": 4, "the minutes": 3, "minutes of": 3, "minutes from": 3,
        "find": 4, "search": 4, "search for": 4, "look for": 4, "look up": 3, "locate": 4, "where is": 1,
        "where are": 1,
        "was editing": 3, "been editing": 3, "i have edited": 3, "i edited": 3, "i have saved": 3, "i saved": 3,
        "i have opened": 3, "i opened": 3, "my archives": 3, "archives": 2,
        "pull up": 3, "dig up": 4, "grep": 4,
        "ls": 3, "dir": 2, "open": 1,
        "working on": 3, "worked on": 3,
        "work on": 3, "changed": 1, "edited": 1,
        "modified": 1, "updated": 1, "saved": 1,
        # what people call these things and how they ask for one
        "cv": 2, "resume": 2, "csv": 2, "folder": 2, "folders": 2, "looking for": 4, "searching for": 4,
        "where did i put": 4, "where did i save": 4, "where did i store": 4, "opened": 1,
        "touched": 1, "viewed": 1, "accessed": 1, "created": 1, "get": 1,
        # what people call their documents (`recent paperwork`); `show` with a kind of document asks for it (`show
        # me the appraisal form`), only when no other command has a cue (`when_alone`)
        "paperwork": 3, "materials": 3, "show": 1,
        # kinds of documents: with a word that fetches or asks where, a file is asked for (`where is the hr policy`);
        # only when no other command has a cue (`when_alone`: `what is the plan for today`)
        **dict.fromkeys(DOCUMENT_KINDS, 1),
        # what the user did to a file, asked about: the recent files (`what did i last change`)
        **{f"{lead} {verb}": 3 for lead in ("did i", "did i last", "have i", "have i been", "i last",
                                             "i have been", "i recently", "have i recently")
           for verb in ("edit", "edited", "editing", "change", "changed", "changing", "modify", "modified",
                        "modifying", "update", "updated", "updating", "touch", "touched", "open", "opened",
                        "opening", "save", "saved", "saving")},
        **{f"{lead} {verb}": 3 for lead in ("i", "recently", "i recently")
           for verb in ("edited", "changed", "modified", "updated", "touched", "opened", "saved")},
        **{f"was i {verb}": 3 for verb in ("editing", "changing", "modifying", "updating", "opening")},
    },
    when_alone=frozenset({"pull up", "look up", "open", "get", "show", *DOCUMENT_KINDS}),
)


# ── /logout and /help: no Graph data, a route of their own (`skills/logout.py`, `skills/help.py`) ───────────────────

LOGOUT = CommandRecord(
    name="logout",
    help="Sign out of Microsoft 365 in this chat.",
    cues={
        "sign out": 5, "sign me out": 5, "log out": 5, "log me out": 5, "logout": 5, "signout": 5, "log off": 5,
        "log me off": 5, "sign off": 5, "sign me off": 5, "signing out": 5, "logging out": 5, "disconnect": 4,
        "switch account": 4, "switch accounts": 4,
        # leaving the account, as other languages say it (`exit from my account`, `go out of the account`)
        **{f"{leave} {whose} account": 5 for leave in ("exit", "exit from", "go out of", "out of", "leave", "quit")
           for whose in ("my", "the")},
        "remove the connection": 4, "close the connection": 4,
        # the credentials this chat holds, let go of (`revoke your token`, `forget my credentials`)
        **{f"{verb} {whose} {held}": 5 for verb in ("revoke", "forget", "clear", "drop")
           for whose in ("my", "your", "the") for held in ("token", "tokens", "credentials", "login", "sign in")},
        # the session in this chat, ended (`terminate my session`)
        **{f"{verb} {whose}session": 5 for verb in ("end", "terminate", "close", "kill", "quit", "exit", "finish")
           for whose in ("", "my ", "the ", "this ")},
        # the account linked to this chat, let go of (`unlink` alone may be a file's link)
        "unlink account": 5, "unlink me": 5,
        **{f"{verb} my {which}account": 5 for verb in ("unlink", "disconnect", "disconnect from", "unlink from")
           for which in ("", "microsoft ", "work ", "office ", "m365 ", "office 365 ")},
    },
)

HELP = CommandRecord(
    name="help",
    help="This list.",
    menu="What I can do, with examples.",
    cues={
        "help": 3, "what can you do": 5, "what do you do": 5, "how does this work": 5, "commands": 4,
        "options": 3, "how do i use": 4, "hi": 2, "hello": 2, "hey": 1, "thanks": 2, "thank you": 2,
        "good morning": 2,
    },
    when_alone=frozenset({"hi", "hello", "hey", "thanks", "thank you", "good morning"}),
)

COMMANDS: tuple[CommandRecord, ...] = (ME, CALENDAR, FILES, LOGOUT, HELP)
"""In the order the help card and the Teams command menu list them."""
