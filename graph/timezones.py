"""Time zone names as Outlook and Teams send them (Windows or IANA) resolved to `ZoneInfo`: the one place for zones."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

# Windows names, as Outlook stores them in mailboxSettings, and the IANA zone each means (CLDR's windowsZones).
_WINDOWS_BY_LOWER = {name.lower(): name for name in win_tz}


def resolve(name: str | None) -> tuple[str, ZoneInfo] | None:
    """`(name as Graph knows it, zone)` for a Windows or IANA name; None for an unknown or empty one."""
    if not name or not name.strip():
        return None
    name = name.strip()
    windows = _WINDOWS_BY_LOWER.get(name.lower())
    if windows:
        return windows, ZoneInfo(win_tz[windows])
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
