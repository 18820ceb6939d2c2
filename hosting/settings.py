"""Where and how `bot.py` serves, parsed in one place so the agent and `bot.py doctor` agree on what is valid."""

from __future__ import annotations

from collections.abc import Mapping

PORT_KEY = "PORT"
DEFAULT_PORT = 3978
DRAIN_KEY = "DRAIN_SECONDS"
DEFAULT_DRAIN_SECONDS = 5.0
"""On SIGTERM: keep serving, not ready, this long, so the load balancer sees `/readyz` fail and stops sending."""
MAX_DRAIN_SECONDS = 300.0
TURN_DEADLINE_KEY = "TURN_DEADLINE_SECONDS"
DEFAULT_TURN_SECONDS = 10.0
"""Below the 15 s Bot Service gives a Teams turn, with room for the HTTP round trips around it (`turn.deadline`)."""
MIN_TURN_SECONDS, MAX_TURN_SECONDS = 1.0, 60.0


def port(settings: Mapping[str, str]) -> int:
    """The port to listen on; a ValueError names the key when it is not a port."""
    value = settings.get(PORT_KEY, "").strip() or str(DEFAULT_PORT)
    if not (value.isdigit() and 0 < int(value) < 65536):
        raise ValueError(f"{PORT_KEY} must be a number from 1 to 65535, not {value!r}")
    return int(value)


def drain_seconds(settings: Mapping[str, str]) -> float:
    """How long to drain on SIGTERM; a ValueError names the key when it is not a sensible number of seconds."""
    return _seconds(settings, DRAIN_KEY, DEFAULT_DRAIN_SECONDS, 0, MAX_DRAIN_SECONDS)


def turn_seconds(settings: Mapping[str, str]) -> float:
    """How long a turn may take, every outbound call included; a ValueError names the key when it is not sensible."""
    return _seconds(settings, TURN_DEADLINE_KEY, DEFAULT_TURN_SECONDS, MIN_TURN_SECONDS, MAX_TURN_SECONDS)


def _seconds(settings: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    value = settings.get(key, "").strip() or str(default)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not low <= seconds <= high:
        raise ValueError(f"{key} must be a number of seconds from {low:g} to {high:g}, not {value!r}")
    return seconds
