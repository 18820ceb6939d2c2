"""The plain-language matcher: a corpus of phrasings written the way people type (lower case, typos, no punctuation,
extra words) maps to the commands with at least 95% accuracy, and no phrasing ever runs a command nobody asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skills.intents import NotUnderstood, Unclear, Understood, understand
from skills.phrases import SUGGESTIONS

ACCURACY_GOAL = 0.95

CORPUS: list[tuple[str, str]] = [
    # the calendar, today
    ("what's on my calendar today?", "calendar today"),
    ("whats on my calendar", "calendar today"),
    ("am I free this afternoon", "calendar today"),
    ("am i busy right now", "calendar today"),
    ("what meetings do i have today", "calendar today"),
    ("my meetings", "calendar today"),
    ("show me my schedule", "calendar today"),
    ("do i have any meetings today", "calendar today"),
    ("whats my day look like", "calendar today"),
    ("agenda for today", "calendar today"),
    ("what's on today", "calendar today"),
    ("any mtgs today?", "calendar today"),
    ("calender", "calendar today"),
    ("show my calnedar", "calendar today"),
    ("meetings this morning", "calendar today"),
    ("what do i have on this afternoon", "calendar today"),
    ("hey can you check my calendar for today please", "calendar today"),
    ("my schedule for today", "calendar today"),
    ("do I have meetings tonight", "calendar today"),
    ("am i free at 3", "calendar today"),
    ("todays meetings", "calendar today"),
    ("what's happening today", "calendar today"),
    ("how busy am i today", "calendar today"),
    ("calendar", "calendar today"),
    ("Calendar", "calendar today"),
    ("my calendar pls", "calendar today"),
    ("appointments today", "calendar today"),
    ("what does my day look like", "calendar today"),
    ("any meetings this evening", "calendar today"),
    ("check my agenda", "calendar today"),
    ("what is on my schedule", "calendar today"),
    ("meetigns today", "calendar today"),
    ("events today", "calendar today"),
    ("do i have anything on this afternoon", "calendar today"),
    ("am i available this morning", "calendar today"),
    ("open my calendar", "calendar today"),
    ("today", "calendar today"),
    ("whats left on my schedule today", "calendar today"),
    ("wats on 2day", "calendar today"),
    ("r there any meetings later today", "calendar today"),
    ("do i have a call at 2", "calendar today"),
    ("what time is my 1:1", "calendar today"),
    ("is my afternoon free", "calendar today"),
    # the calendar, tomorrow
    ("what's on my calendar tomorrow?", "calendar tomorrow"),
    ("meetings tomorrow", "calendar tomorrow"),
    ("what do i have tmrw", "calendar tomorrow"),
    ("am i free tomorrow morning", "calendar tomorrow"),
    ("tomorows schedule", "calendar tomorrow"),
    ("calendar tomorrow", "calendar tomorrow"),
    ("anything on tomorrow", "calendar tomorrow"),
    ("do i have anything tomorrow afternoon", "calendar tomorrow"),
    ("whats happening tomorrow", "calendar tomorrow"),
    ("how busy am i tomorrow", "calendar tomorrow"),
    ("agenda tomorrow pls", "calendar tomorrow"),
    ("show tomorrow's meetings", "calendar tomorrow"),
    ("tomorrow", "calendar tomorrow"),
    ("what about tomorrow", "calendar tomorrow"),
    ("my schedule for tomorrow", "calendar tomorrow"),
    ("any meetings tomorow", "calendar tomorrow"),
    ("am i busy tomorrow", "calendar tomorrow"),
    ("calendar for tomorrow please", "calendar tomorrow"),
    ("whats on tmr", "calendar tomorrow"),
    ("do i have meetings tomorrow night", "calendar tomorrow"),
    ("tomorrow's agenda", "calendar tomorrow"),
    ("pls show calender for tmrw", "calendar tomorrow"),
    ("anything tmrw?", "calendar tomorrow"),
    ("when do i start tomorrow", "calendar tomorrow"),
    ("appointments tomorrow", "calendar tomorrow"),
    # the calendar, this week
    ("this week", "calendar week"),
    ("what's on this week", "calendar week"),
    ("my meetings this week", "calendar week"),
    ("calendar for the week", "calendar week"),
    ("how busy is my week", "calendar week"),
    ("show me the week ahead", "calendar week"),
    ("what do i have on friday", "calendar week"),
    ("am i free on thursday", "calendar week"),
    ("meetings for the rest of the week", "calendar week"),
    ("weekly schedule", "calendar week"),
    ("calendar week", "calendar week"),
    ("schedule this wk", "calendar week"),
    ("any meetings on monday", "calendar week"),
    ("whats my week look like", "calendar week"),
    # the calendar, coming up
    ("meetings next week", "calendar next"),
    ("what's my next meeting", "calendar next"),
    ("whats next on my calendar", "calendar next"),
    ("upcoming meetings", "calendar next"),
    ("what does next week look like", "calendar next"),
    ("my schedule next week", "calendar next"),
    ("what's on in the next few days", "calendar next"),
    ("any meetings coming up", "calendar next"),
    ("when is my next meeting", "calendar next"),
    ("calendar next", "calendar next"),
    ("upcoming events", "calendar next"),
    ("am i free next week", "calendar next"),
    ("whats coming up", "calendar next"),
    ("next mtg?", "calendar next"),
    ("my calendar for next week pls", "calendar next"),
    # the profile
    ("who's my manager", "me"),
    ("who is my manager?", "me"),
    ("whos my boss", "me"),
    ("show my profile", "me"),
    ("my profile", "me"),
    ("who am i", "me"),
    ("what's my job title", "me"),
    ("what is my email address", "me"),
    ("whats my phone number", "me"),
    ("my contact details", "me"),
    ("show me my info", "me"),
    ("what department am i in", "me"),
    ("profile pls", "me"),
    ("my profle", "me"),
    ("who do i report to", "me"),
    ("what's my office location", "me"),
    ("what's my presence", "me"),
    ("tell me about myself", "me"),
    ("me", "me"),
    ("Me", "me"),
    ("my details", "me"),
    ("who's my manger", "me"),
    ("what's my title", "me"),
    ("show my contact card", "me"),
    ("whats my status", "me"),
    ("who is my boss again", "me"),
    ("what is my role", "me"),
    ("my phone number please", "me"),
    ("what's my manager's name", "me"),
    ("who's my line manager", "me"),
    ("show my org info", "me"),
    # files
    ("find the budget spreadsheet", "files budget"),
    ("files I changed recently", "files"),
    ("my recent files", "files"),
    ("show my files", "files"),
    ("recent documents", "files"),
    ("what have i been working on", "files"),
    ("search for quarterly report", "files quarterly report"),
    ("find marketing plan", "files marketing plan"),
    ("where is the contoso proposal doc", "files contoso proposal"),
    ("look for the q3 deck", "files q3"),
    ("find my meeting notes", "files meeting notes"),
    ("search onedrive for travel policy", "files travel policy"),
    ("open the sales deck", "files sales"),
    ("docs i edited this week", "files"),
    ("latest files", "files"),
    ("show recent files pls", "files"),
    ("what did i work on yesterday", "files"),
    ("find budget", "files budget"),
    ("search budget 2024", "files budget 2024"),
    ("look up the onboarding checklist", "files onboarding checklist"),
    ("pull up the sales report", "files sales report"),
    ("find excel file with expenses", "files expenses"),
    ("fiels", "files"),
    ("my documents", "files"),
    ("files", "files"),
    ("files budget", "files budget"),
    ("Files budget", "files budget"),
    ("any pdfs about onboarding", "files onboarding"),
    ("find powerpoint for board meeting", "files board meeting"),
    ("search my files for invoice", "files invoice"),
    ("find the contract", "files contract"),
    ("where did i save the roadmap file", "files roadmap"),
    ("my onedrive files", "files"),
    ("documents i modified lately", "files"),
    ("find the product launch presentation", "files product launch"),
    ("serach for benefits", "files benefits"),
    ("find the hr policy document", "files hr policy"),
    ("show me the spreadsheets i worked on", "files"),
    ("find files about the merger", "files merger"),
    ("search for the signed nda", "files signed nda"),
    ("can u find the q4 forecast", "files q4 forecast"),
    ("what was i working on last week", "files"),
    ("show budget xlsx", "files budget"),
    ("where did i put the offsite agenda doc", "files offsite agenda"),
    ("files from this week", "files"),
    # signing out
    ("sign me out", "logout"),
    ("log me out", "logout"),
    ("logout", "logout"),
    ("log out please", "logout"),
    ("sign out", "logout"),
    ("signout", "logout"),
    ("log off", "logout"),
    ("sign out of microsoft 365", "logout"),
    ("please log me out now", "logout"),
    ("lgout", "logout"),
    ("Sign me out please", "logout"),
    ("i want to sign out", "logout"),
    ("switch account", "logout"),
    ("sign-out", "logout"),
    ("log me off pls", "logout"),
    ("signing out", "logout"),
    # help
    ("help", "help"),
    ("what can you do", "help"),
    ("what can you do for me", "help"),
    ("how does this work", "help"),
    ("hi", "help"),
    ("hello there", "help"),
    ("commands", "help"),
    ("what do you do", "help"),
    ("?", "help"),
    ("options", "help"),
    ("how do i use this", "help"),
    ("thanks", "help"),
    ("thank you!", "help"),
    ("hey", "help"),
    ("HELP", "help"),
    ("good morning", "help"),
]

AMBIGUOUS = [
    "presentation for tomorrow's meeting",
    "am i free today or tomorrow",
    "the budget meeting deck",
    "what is on my onedrive",
    "find my next meeting",
]

NEVER: list[tuple[str, set[str]]] = [
    ("sign me out", {"me"}),
    ("log me out", {"me"}),
    ("sign me out of my profile", {"me"}),
    ("don't sign me out", {"logout"}),
    ("do not log me out", {"logout"}),
    ("dont log me out yet", {"logout"}),
    ("how do i sign out", {"logout"}),
    ("never sign me out", {"logout"}),
    ("sign me in", {"logout"}),
    ("what can you do for me", {"me"}),
    ("tell me a joke", {"me", "calendar", "files", "logout"}),
    ("show me", {"me"}),
    ("call me", {"me"}),
    ("who is megan", {"me"}),
    ("show megan's calendar", {"calendar"}),
    ("what's on megan's calendar tomorrow", {"calendar"}),
    ("is megan free tomorrow", {"calendar"}),
    ("is adele busy this afternoon", {"calendar"}),
    ("what's my manager's calendar", {"calendar", "me"}),
    ("cancel my meeting tomorrow", {"calendar"}),
    ("can you cancel my 3pm", {"calendar"}),
    ("schedule a meeting with megan tomorrow", {"calendar"}),
    ("book a room for friday", {"calendar"}),
    ("move my next meeting", {"calendar"}),
    ("decline the meeting tomorrow", {"calendar"}),
    ("send my calendar to megan", {"calendar"}),
    ("remind me tomorrow", {"calendar", "me"}),
    ("find time with megan next week", {"calendar", "files"}),
    ("delete the budget spreadsheet", {"files"}),
    ("please delete my files", {"files"}),
    ("share the q3 deck with megan", {"files"}),
    ("upload a file", {"files"}),
    ("create a new document", {"files"}),
    ("rename the budget file", {"files"}),
    ("email my manager", {"me"}),
    ("change my job title", {"me"}),
    ("update my phone number", {"me"}),
    ("i was charged twice", {"files"}),
    ("where is the party", {"files"}),
    ("is the store open", {"files"}),
    ("i am busy", {"calendar"}),
    ("bye talk later", {"calendar"}),
    ("i'm fine thanks", {"files"}),
    ("why can't i see my files", {"files"}),
    ("123456", {"me", "calendar", "files", "logout"}),
]


def outcome(text: str) -> str:
    """What the user sees: a command and its arguments, `help` (the help card), or `ask` (a question)."""
    meaning = understand(text)
    if isinstance(meaning, Unclear):
        return "ask"
    if isinstance(meaning, NotUnderstood):
        return "help"
    return f"{meaning.name} {meaning.args}".strip()


def ran(text: str) -> str | None:
    meaning = understand(text)
    return meaning.name if isinstance(meaning, Understood) and meaning.name != "help" else None


def test_the_corpus_has_at_least_150_phrasings() -> None:
    assert len(CORPUS) >= 150
    assert len({text for text, _ in CORPUS}) == len(CORPUS), "each phrasing once"


def test_the_corpus_maps_with_at_least_95_percent_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    misses = [(text, expected, outcome(text)) for text, expected in CORPUS if outcome(text) != expected]
    accuracy = 1 - len(misses) / len(CORPUS)
    with capsys.disabled():
        print(f"\nintent corpus: {len(CORPUS) - len(misses)}/{len(CORPUS)} phrasings understood "
              f"({accuracy:.1%}, goal {ACCURACY_GOAL:.0%})")
        for text, expected, got in misses:
            print(f"  {text!r}: expected {expected!r}, got {got!r}")
    assert accuracy >= ACCURACY_GOAL


def test_no_phrasing_in_the_corpus_runs_another_command_than_asked() -> None:
    """A miss may ask or show help, never run something else (or the right command with other arguments)."""
    wrong = [(text, expected, outcome(text)) for text, expected in CORPUS
             if outcome(text) not in (expected, "ask", "help")]
    assert wrong == []


@pytest.mark.parametrize(("text", "forbidden"), NEVER)
def test_a_phrasing_never_runs_a_command_the_user_did_not_ask_for(text: str, forbidden: set[str]) -> None:
    assert ran(text) not in forbidden


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_an_ambiguous_phrasing_asks_which_was_meant(text: str) -> None:
    meaning = understand(text)
    assert isinstance(meaning, Unclear), meaning
    assert meaning.choices[0] != meaning.choices[1]


def test_what_is_not_understood_gets_one_suggestion() -> None:
    for text in ("blah blah", "wheres my resume", "cancel my meeting tomorrow", ""):
        meaning = understand(text)
        if isinstance(meaning, NotUnderstood):
            assert isinstance(meaning.suggestion, Understood)


def test_a_suggestion_carries_what_was_understood_of_the_arguments() -> None:
    assert understand("cancel my meeting tomorrow") == NotUnderstood(Understood("calendar", "tomorrow"))
    assert understand("wheres my resume") == NotUnderstood(Understood("files", "resume"))


def test_a_negated_sign_out_is_never_suggested_back() -> None:
    meaning = understand("don't sign me out")
    assert isinstance(meaning, NotUnderstood) and meaning.suggestion.name != "logout"


def test_a_bare_command_word_with_words_it_does_not_know_keeps_them_for_the_skill() -> None:
    """`calendar 3/12` reaches /calendar with its argument, which says which ranges it knows, as before."""
    assert understand("calendar 3/12") == Understood("calendar", "3/12")


def test_a_file_search_keeps_the_words_as_typed() -> None:
    assert understand("find the Q3 Budget spreadsheet") == Understood("files", "Q3 Budget")


STARTERS = {"What's on my calendar today?": "calendar today", "Who's my manager?": "me",
            "Files I changed recently": "files"}


def test_the_conversation_starters_copilot_offers_run_their_commands() -> None:
    """A prompt starter puts its title in the compose box ("Create prompt suggestions",
    https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/prompt-suggestions)."""
    template = json.loads((Path(__file__).parent.parent / "appPackage" / "manifest.template.json").read_text())
    (starters,) = [listing["commands"] for listing in template["bots"][0]["commandLists"]
                   if listing["scopes"] == ["copilot"]]
    assert {starter["title"]: outcome(starter["title"]) for starter in starters} == STARTERS


def test_every_suggestion_is_understood_as_the_command_it_offers() -> None:
    assert {key: outcome(label) for key, label in SUGGESTIONS.items()} == {
        key: f"{key[0]} {key[1]}".strip() for key in SUGGESTIONS}
