"""What the Graph layer returns: small frozen dataclasses decoded from Graph's JSON.

Not msgraph-sdk's models: their deserialization costs milliseconds per object on the event loop
(`docs/sdk-seams.md`, `GraphSession.send`). Optional fields are `None` (or empty) when Graph leaves them out,
so cards can omit them instead of showing "None".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

FileKind = Literal["folder", "word", "excel", "powerpoint", "pdf", "image", "text", "other"]


@dataclass(frozen=True)
class Person:
    """Someone shown next to the user, such as the manager."""

    display_name: str
    job_title: str | None = None
    mail: str | None = None


@dataclass(frozen=True)
class SignedInUser:
    """Who a `/files` command is for: the name search's `author:`/`ModifiedBy:` hold, and the UPN their OneDrive's
    address is made of."""

    display_name: str
    user_principal_name: str

    @property
    def personal_segment(self) -> str:
        """Their OneDrive's `personal/…` segment: the UPN with `@` and `.` as `_` (`adele_contoso_com`)."""
        return self.user_principal_name.replace("@", "_").replace(".", "_")

    @property
    def domain_segment(self) -> str:
        """How the tenant's domain ends a OneDrive segment (`_contoso_com`)."""
        return "_" + self.user_principal_name.rpartition("@")[2].replace(".", "_")


@dataclass(frozen=True)
class Presence:
    """Teams presence, e.g. availability `Available`/`Busy`/`Away`, activity `InAMeeting`."""

    availability: str
    activity: str | None = None


@dataclass(frozen=True)
class Profile:
    """The signed-in user's `/me` card: one `$batch` of profile, photo, manager and presence."""

    display_name: str
    initials: str
    """One or two letters from the name: shown when there is no photo."""
    job_title: str | None = None
    department: str | None = None
    mail: str | None = None
    business_phone: str | None = None
    mobile_phone: str | None = None
    office_location: str | None = None
    photo_data_uri: str | None = None
    """`data:image/jpeg;base64,...` of the 64x64 photo, or None when the user has none."""
    manager: Person | None = None
    presence: Presence | None = None


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence from `calendarView` (recurring series are expanded into occurrences)."""

    id: str
    subject: str
    start: datetime
    """Aware, in the page's time zone (all-day events: midnight of their day in that zone)."""
    end: datetime
    is_all_day: bool = False
    location: str | None = None
    organizer_name: str | None = None
    organizer_mail: str | None = None
    join_url: str | None = None
    is_online: bool = False
    is_cancelled: bool = False
    show_as: str | None = None
    """`free`, `tentative`, `busy`, `oof`, `workingElsewhere` or `unknown`."""
    web_link: str | None = None
    is_recurring: bool = False
    """An occurrence (or exception) of a recurring series."""


@dataclass(frozen=True)
class CalendarPage:
    """One page of events in the window [start, end), with Graph's (opaque) link to the next page, if any."""

    events: tuple[CalendarEvent, ...]
    time_zone: str
    """The zone the times are in: its Windows name, as sent in `Prefer: outlook.timezone` (an IANA name only for a
    zone with no Windows equivalent)."""
    start: datetime
    end: datetime
    next_link: str | None = None

    def more(self) -> dict[str, str] | None:
        """What a More button carries back for the next page (read by `graph.calendar.next_page_from`): the link and
        the window and zone it belongs to, so nothing is read back out of the link."""
        if not self.next_link:
            return None
        return {"nextLink": self.next_link, "timeZone": self.time_zone, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


@dataclass(frozen=True)
class DriveItem:
    """A document in OneDrive or SharePoint, as Microsoft Search finds it."""

    id: str
    name: str
    kind: FileKind
    size: int | None = None
    modified_at: datetime | None = None
    modified_by: str | None = None
    web_url: str | None = None
    """Percent-encoded, ready to open."""
    folder_path: str | None = None
    """Where it is, decoded for reading: in the user's OneDrive the folder from its root (`/` for the root,
    `/Projects/Delta Study`); in a colleague's `megan's OneDrive: /Shared`; on a SharePoint site
    `site/library/folder`; None when the link does not say."""


@dataclass(frozen=True)
class FilesPage:
    """Recent files (`query` None) or search results, with where the next page starts, if there is one."""

    items: tuple[DriveItem, ...]
    query: str | None = None
    next_from: int | None = None
    """The offset of the next page's first result (Microsoft Search pages with `from` and `size`)."""

    def more(self) -> dict[str, int] | None:
        """What a More button carries back for the next page (read by `graph.files.page_start`)."""
        return None if self.next_from is None else {"from": self.next_from}
