"""Where the agent serves: PORT and DRAIN_SECONDS are checked before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hosting.settings import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_PORT,
    DEFAULT_TURN_SECONDS,
    drain_seconds,
    port,
    turn_seconds,
)

ROOT = Path(__file__).resolve().parent.parent


def test_unset_or_blank_settings_mean_the_defaults() -> None:
    assert (port({}), drain_seconds({"DRAIN_SECONDS": " "})) == (DEFAULT_PORT, DEFAULT_DRAIN_SECONDS)


def test_a_port_and_fractional_drain_are_read_as_numbers() -> None:
    assert (port({"PORT": "8080"}), drain_seconds({"DRAIN_SECONDS": "2.5"})) == (8080, 2.5)


def test_zero_drain_is_allowed_for_platforms_that_drain_themselves() -> None:
    assert drain_seconds({"DRAIN_SECONDS": "0"}) == 0


@pytest.mark.parametrize("value", ["0", "65536", "http", "-1", "3978.5"])
def test_a_value_that_is_no_port_is_refused_naming_the_key(value: str) -> None:
    with pytest.raises(ValueError, match=f"PORT must be .* not '{value}'"):
        port({"PORT": value})


@pytest.mark.parametrize("value", ["-1", "301", "five", "nan"])
def test_a_drain_outside_zero_to_five_minutes_is_refused_naming_the_key(value: str) -> None:
    with pytest.raises(ValueError, match=f"DRAIN_SECONDS must be .* not '{value}'"):
        drain_seconds({"DRAIN_SECONDS": value})


def test_the_turn_deadline_defaults_below_bot_services_15_s_and_reads_fractions() -> None:
    assert (turn_seconds({}), turn_seconds({"TURN_DEADLINE_SECONDS": "4.5"})) == (DEFAULT_TURN_SECONDS, 4.5)
    assert DEFAULT_TURN_SECONDS < 15


@pytest.mark.parametrize("value", ["0", "0.5", "61", "soon", "nan"])
def test_a_turn_deadline_outside_one_second_to_a_minute_is_refused_naming_the_key(value: str) -> None:
    with pytest.raises(ValueError, match=f"TURN_DEADLINE_SECONDS must be .* not '{value}'"):
        turn_seconds({"TURN_DEADLINE_SECONDS": value})


def test_the_agent_started_with_a_bad_port_exits_with_one_readable_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=http\n")
    result = subprocess.run([sys.executable, "bot.py", "--env-file", str(env_file)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, check=False)
    assert (result.returncode, result.stderr.strip()) == (1, "PORT must be a number from 1 to 65535, not 'http'")
