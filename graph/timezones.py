"""Time zones, the one place where a name becomes a zone: a Windows name for Graph, the IANA zone for our arithmetic.

Graph's `Prefer: outlook.timezone` takes Windows names and only the hundred or so IANA names the dateTimeTimeZone page
lists (https://learn.microsoft.com/graph/api/resources/datetimetimezone): Europe/Berlin is there, Europe/Amsterdam is
not, and Graph answers that 400 `TimeZoneNotSupportedException`. Teams' `localTimezone` is an IANA name; a mailbox's
`timeZone` is usually a Windows name (user-get-mailboxsettings: "The Windows format is the default") and may be IANA.
So every name resolves to both: the Windows name CLDR's windowsZones table gives it (shipped in tzlocal), which Graph
always accepts, and the IANA zone itself, whose rules our dates and windows follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

_WINDOWS_BY_LOWER = {name.lower(): name for name in win_tz}


@dataclass(frozen=True)
class Zone:
    """A time zone as Graph is asked for it and as we compute in it."""

    graph_name: str
    """The Windows name sent in `Prefer: outlook.timezone` (`UTC` for an IANA zone CLDR maps to no Windows zone:
    Graph then answers in UTC and the times are converted here)."""
    tz: ZoneInfo
    label: str
    """The name a person is shown: the Windows name, else the IANA name."""


UTC = Zone("UTC", ZoneInfo(win_tz["UTC"]), "UTC")
"""What `resolve("UTC")` gives, so a mailbox in UTC matches a guess of UTC and costs no second round trip."""


def resolve(name: str | None) -> Zone | None:
    """The zone a Windows or IANA name means; None for an empty or unknown name."""
    if not name or not name.strip():
        return None
    name = name.strip()
    windows = _WINDOWS_BY_LOWER.get(name.lower())
    if windows:
        return Zone(windows, ZoneInfo(win_tz[windows]), windows)
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    windows = tz_win.get(tz.key)
    return Zone(windows, tz, windows) if windows else Zone("UTC", tz, tz.key)
