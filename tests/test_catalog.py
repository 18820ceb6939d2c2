"""The hand-written documents say what the command records say: the README's command table lists every command, and
the Graph permissions the README, `.env.example` and the deployment guide ask an admin to grant are exactly those the
commands need, each granted for the command that needs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skills.catalog import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
NEEDED = [permission for record in COMMANDS for permission in record.permissions]
PERMISSION = re.compile(r"\b[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z]*)+\b")
"""A Graph permission's name (`User.Read.All`); the sign-in's own scopes (`openid`, `offline_access`) are no
command's."""

LISTS = {
    "README": ("README.md", "Delegated Microsoft Graph permissions", "Search API does not search with"),
    ".env.example": (".env.example", "delegated Graph permissions:", "(the manager needs"),
    "the OAuth connection's scopes": ("docs/deploy.md", "| Scopes |", "(spaces between)"),
}
"""Where each document lists the permissions: the file, and the text just before and just after the list."""


def test_the_readmes_command_table_lists_every_command() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| command | answer |")
    table = text[start:text.index("\n\n", start)]

    assert re.findall(r"^\| `(/\w+)", table, re.MULTILINE) == [record.command for record in COMMANDS]


def listed(document: str, before: str, after: str) -> list[str]:
    """The permissions named between `before` and `after`, alternatives in parentheses (`(or Calendars.Read)`) left
    out."""
    text = (ROOT / document).read_text(encoding="utf-8")
    start = text.index(before) + len(before)
    return PERMISSION.findall(re.sub(r"\([^)]*\)", "", text[start:text.index(after, start)]))


@pytest.mark.parametrize("where", LISTS)
def test_a_documents_permission_list_is_the_ones_the_commands_need(where: str) -> None:
    assert listed(*LISTS[where]) == NEEDED


def test_the_deployment_guide_grants_each_permission_for_the_command_that_needs_it() -> None:
    text = (ROOT / "docs/deploy.md").read_text(encoding="utf-8")
    start = text.index("| permission | for |")
    table = text[start:text.index("\n\n", start)]

    assert re.findall(r"^\| `([^`]+)`[^|]*\| `(/\w+)`", table, re.MULTILINE) == [
        (permission, record.command) for record in COMMANDS for permission in record.permissions]
