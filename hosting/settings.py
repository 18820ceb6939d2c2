"""Where and how `bot.py` serves, parsed in one place so the agent and `bot.py doctor` agree on what is valid."""

from __future__ import annotations

from collections.abc import Mapping

PORT_KEY = "PORT"
DEFAULT_PORT = 3978
DRAIN_KEY = "DRAIN_SECONDS"
DEFAULT_DRAIN_SECONDS = 5.0
"""On SIGTERM: keep serving, not ready, this long, so the load balancer sees `/readyz` fail and stops sending."""
MAX_DRAIN_SECONDS = 300.0


def port(settings: Mapping[str, str]) -> int:
    """The port to listen on; a ValueError names the key when it is not a port."""
    value = settings.get(PORT_KEY, "").strip() or str(DEFAULT_PORT)
    if not (value.isdigit() and 0 < int(value) < 65536):
        raise ValueError(f"{PORT_KEY} must be a number from 1 to 65535, not {value!r}")
    return int(value)


def drain_seconds(settings: Mapping[str, str]) -> float:
    """How long to drain on SIGTERM; a ValueError names the key when it is not a sensible number of seconds."""
    value = settings.get(DRAIN_KEY, "").strip() or str(DEFAULT_DRAIN_SECONDS)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_DRAIN_SECONDS:
        raise ValueError(f"{DRAIN_KEY} must be a number of seconds from 0 to {MAX_DRAIN_SECONDS:g}, not {value!r}")
    return seconds
