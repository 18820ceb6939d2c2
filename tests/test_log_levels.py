"""LOG_LEVEL as operators see it: the agent's own INFO lines, without the libraries' per-request chatter unless DEBUG.

Each case runs `setup_logging` in a child process: it replaces the root logger's handlers, which this session's token
check (conftest) needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from localcloud.launcher import ROOT

LOG_EACH = """
import logging, sys
from observability.logs import setup_logging
setup_logging({"LOG_LEVEL": sys.argv[1]})
for name in ("agent", "skills.commands", "microsoft_agents.hosting.core._oauth._oauth_flow", "msal.application",
             "httpx", "aiohttp.access"):
    logging.getLogger(name).info("info")
    logging.getLogger(name).warning("warning")
"""


def logged(level: str) -> set[tuple[str, str]]:
    """(logger, level) of every line the agent's logging writes at `LOG_LEVEL=level`."""
    done = subprocess.run([sys.executable, "-c", LOG_EACH, level], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return {(entry["logger"], entry["level"]) for entry in map(json.loads, done.stderr.splitlines())}


def test_at_info_the_agents_own_lines_stay_and_the_libraries_log_warnings_only() -> None:
    lines = logged("INFO")

    assert {("agent", "INFO"), ("skills.commands", "INFO")} <= lines
    assert not {line for line in lines if line[1] == "INFO" and line[0] not in ("agent", "skills.commands")}
    assert ("microsoft_agents.hosting.core._oauth._oauth_flow", "WARNING") in lines
    assert ("aiohttp.access", "WARNING") in lines


def test_at_debug_the_libraries_log_everything_again() -> None:
    lines = logged("DEBUG")

    assert {("msal.application", "INFO"), ("httpx", "INFO"), ("aiohttp.access", "INFO"),
            ("microsoft_agents.hosting.core._oauth._oauth_flow", "INFO")} <= lines


@pytest.mark.parametrize("level", ["WARNING", "ERROR"])
def test_a_higher_level_applies_to_everyone(level: str) -> None:
    lines = logged(level)

    assert all(line[1] != "INFO" for line in lines)
    assert (("agent", "WARNING") in lines) == (level == "WARNING")
