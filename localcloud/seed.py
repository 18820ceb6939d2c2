"""Deterministic mailbox, calendar, drive and photo content for the users of `tenant.USERS`.

Events are placed relative to the current date in each user's own time zone, so "today" always has meetings;
the same date gives the same content on every run. Nothing here is random: variety comes from hashing names.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .tenant import USERS, User

UTC = ZoneInfo("UTC")


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def _number(*parts: object) -> int:
    return int.from_bytes(_digest(*parts)[:8], "big")


def user_by_username(username: str) -> User:
    return next(user for user in USERS if user.username == username)


def manager_of(user: User) -> User | None:
    return user_by_username(user.manager) if user.manager else None


def reports_of(user: User) -> list[User]:
    return [other for other in USERS if other.manager == user.username]


# --- mailbox settings ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locale:
    locale: str
    display_name: str
    date_format: str
    time_format: str


_LOCALES = {
    "America/Los_Angeles": Locale("en-US", "English (United States)", "M/d/yyyy", "h:mm tt"),
    "America/New_York": Locale("en-US", "English (United States)", "M/d/yyyy", "h:mm tt"),
    "Europe/London": Locale("en-GB", "English (United Kingdom)", "dd/MM/yyyy", "HH:mm"),
    "Europe/Berlin": Locale("de-DE", "Deutsch (Deutschland)", "dd.MM.yyyy", "HH:mm"),
    "Asia/Kolkata": Locale("en-IN", "English (India)", "dd-MM-yyyy", "h:mm tt"),
    "Asia/Tokyo": Locale("ja-JP", "日本語 (日本)", "yyyy/MM/dd", "H:mm"),
}


def locale_of(user: User) -> Locale:
    return _LOCALES.get(user.iana_time_zone, _LOCALES["America/New_York"])


def today_for(user: User, now: datetime | None = None) -> date:
    """The current date where the user is."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(user.iana_time_zone)).date()


# --- calendar --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """A weekly recurrence on some weekdays, bounded by an end date as Outlook stores it."""

    days_of_week: tuple[int, ...]
    """0 = Monday, as `date.weekday()`."""
    start_date: date
    end_date: date


@dataclass(frozen=True)
class Event:
    id: str
    subject: str
    start: datetime
    """Aware; for all-day events midnight in the owner's zone."""
    end: datetime
    owner: User
    organizer: User
    attendees: tuple[User, ...] = ()
    location: str = ""
    online: bool = False
    is_all_day: bool = False
    is_cancelled: bool = False
    show_as: str = "busy"
    importance: str = "normal"
    sensitivity: str = "normal"
    body: str = ""
    series: Series | None = None
    series_master_id: str | None = None
    created: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 8, 0, tzinfo=UTC))

    @property
    def type(self) -> str:
        if self.series is not None:
            return "seriesMaster"
        return "occurrence" if self.series_master_id else "singleInstance"

    @property
    def join_url(self) -> str | None:
        if not self.online:
            return None
        thread = base64.b32encode(_digest("thread", self.series_master_id or self.id)[:15]).decode().lower()
        return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"

    def occurrences(self, first: date, last: date) -> list[Event]:
        """A series master's occurrences on the owner's dates `first`..`last` (inclusive)."""
        assert self.series is not None
        zone = ZoneInfo(self.owner.iana_time_zone)
        duration = self.end - self.start
        start_time = self.start.astimezone(zone).time()
        day = max(first, self.series.start_date)
        result: list[Event] = []
        while day <= min(last, self.series.end_date):
            if day.weekday() in self.series.days_of_week:
                start = datetime.combine(day, start_time, zone)
                result.append(
                    Event(
                        id=event_id(self.owner, "occurrence", self.id, day),
                        subject=self.subject, start=start, end=start + duration, owner=self.owner,
                        organizer=self.organizer, attendees=self.attendees, location=self.location,
                        online=self.online, show_as=self.show_as, body=self.body,
                        series_master_id=self.id, created=self.created,
                    )
                )
            day += timedelta(days=1)
        return result


def event_id(user: User, *parts: object) -> str:
    """An opaque, URL-safe id shaped like Exchange's (`AAMkAG…`)."""
    return "AAMkAG" + base64.urlsafe_b64encode(_digest(user.id, *parts)[:30]).decode()


def calendar(user: User, today: date) -> list[Event]:
    """The user's series masters and single events around `today` (dates in the user's zone)."""
    if user.calendar_empty:
        return []
    zone = ZoneInfo(user.iana_time_zone)
    manager = manager_of(user)
    reports = reports_of(user)
    team = tuple(other for other in USERS if other.manager == user.manager and other != user)
    monday = today - timedelta(days=today.weekday())
    created = datetime.combine(monday - timedelta(weeks=12), time(8), zone)

    def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=day_offset), time(hour, minute), zone)

    def single(key: str, subject: str, start: datetime, minutes: int, **kwargs: object) -> Event:
        return Event(
            id=event_id(user, key, today), subject=subject, start=start, end=start + timedelta(minutes=minutes),
            owner=user, created=created, **kwargs,  # type: ignore[arg-type]
        )

    one_on_one_with = manager or (reports[0] if reports else user)
    series_range = Series(tuple(range(5)), monday - timedelta(weeks=12), monday + timedelta(weeks=26))
    standup_start = datetime.combine(series_range.start_date, time(9), zone)
    one_on_one_start = datetime.combine(series_range.start_date + timedelta(days=1), time(14), zone)
    others = [other for other in USERS if other != user]
    peer = others[_number(user.id, "peer") % len(others)]
    return [
        Event(
            id=event_id(user, "series", "standup"), subject="Daily stand-up", start=standup_start,
            end=standup_start + timedelta(minutes=15), owner=user, organizer=manager or user,
            attendees=(manager or user, *team), online=True, body="What did you do, what will you do, blockers?",
            series=series_range, created=created,
        ),
        Event(
            id=event_id(user, "series", "one-on-one"),
            subject=f"1:1 {user.given_name} / {one_on_one_with.given_name}", start=one_on_one_start,
            end=one_on_one_start + timedelta(minutes=30), owner=user, organizer=one_on_one_with,
            attendees=(user, one_on_one_with), online=True, sensitivity="private",
            body="Priorities, feedback and career.",
            series=Series((1,), series_range.start_date, series_range.end_date), created=created,
        ),
        single("budget", "Q3 budget review", at(0, 11), 60, organizer=peer, attendees=(user, peer),
               online=True, importance="high", body="Please read the budget workbook before the meeting."),
        single("design", "Design sync", at(0, 15, 30), 45, organizer=user, attendees=(user, peer),
               location="Conf Room Rainier", body="Walk through the new onboarding flow."),
        single("lunch", "Lunch with the team", at(1, 12), 60, organizer=user, location="Cafeteria",
               show_as="free", body=""),
        single("customer", "Customer call: Fabrikam", at(1, 16), 30, organizer=user, attendees=(user, peer),
               online=True, body="Renewal and the new roadmap."),
        single("cancelled", "Canceled: Vendor demo", at(1, 10), 60, organizer=peer, attendees=(user, peer),
               location="Conf Room Adams", is_cancelled=True, show_as="free", body="The vendor cancelled."),
        single("planning", "Sprint planning", at(2, 10), 90, organizer=manager or user,
               attendees=(user, *team), location="Conf Room Baker", body="Plan the next two weeks."),
        single("review", "Quarterly business review", at(3, 13), 120, organizer=manager or user,
               attendees=(user, *team), online=True, importance="high", body="Numbers, risks and next steps."),
        single("dentist", "Dentist", at(-1, 17), 60, organizer=user, show_as="oof", sensitivity="private",
               body=""),
        single("offsite", "Team offsite", datetime.combine(today, time(0), zone), 24 * 60, organizer=user,
               location="Lakeside Lodge", is_all_day=True, show_as="free", body="A day away from screens."),
    ]


def find_event(user: User, today: date, wanted: str) -> Event | None:
    """A series master, a single event or an occurrence, by id."""
    for event in calendar(user, today):
        if event.id == wanted:
            return event
        if event.series is not None:
            for occurrence in event.occurrences(event.series.start_date, event.series.end_date):
                if occurrence.id == wanted:
                    return occurrence
    return None


# --- drive -----------------------------------------------------------------------------------------------------

MIME_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "png": "image/png",
    "txt": "text/plain",
    "md": "text/markdown",
}

# (folder path, file name, search keywords)
_FILES: tuple[tuple[str, str, str], ...] = (
    ("Documents", "Budget 2026.xlsx", "finance forecast"),
    ("Documents", "Meeting notes.docx", "minutes"),
    ("Documents", "Onboarding checklist.docx", "hr welcome"),
    ("Documents", "Travel policy.pdf", "expenses"),
    ("Documents", "Team photo.png", "offsite"),
    ("Documents", "Ideas.md", "brainstorm backlog"),
    ("Documents", "Phone numbers.txt", "contacts"),
    ("Projects/Contoso Launch", "Launch plan.docx", "roadmap go-to-market"),
    ("Projects/Contoso Launch", "Launch budget.xlsx", "finance costs"),
    ("Projects/Contoso Launch", "Launch keynote.pptx", "presentation slides"),
    ("Projects/Contoso Launch", "Press release draft.docx", "marketing"),
    ("Projects/Contoso Launch", "Hero banner.png", "design marketing"),
    ("Projects/Fabrikam Renewal", "Renewal proposal.docx", "customer contract"),
    ("Projects/Fabrikam Renewal", "Pricing model.xlsx", "finance budget discount"),
    ("Projects/Fabrikam Renewal", "Signed contract.pdf", "legal customer"),
    ("Projects/Fabrikam Renewal", "Call notes.md", "customer minutes"),
    ("Reports", "Quarterly report Q1.pdf", "finance results"),
    ("Reports", "Quarterly report Q2.pdf", "finance results"),
    ("Reports", "Budget variance Q2.xlsx", "finance"),
    ("Reports", "Customer survey results.pptx", "feedback nps"),
    ("Reports", "Weekly status.docx", "status update"),
    ("Reports", "Sales pipeline.xlsx", "forecast customers"),
    ("Shared", "Team budget tracker.xlsx", "finance shared"),
    ("Shared", "Brand guidelines.pdf", "design logo"),
    ("Shared", "All hands deck.pptx", "presentation slides"),
    ("Shared", "Office floor plan.png", "building rooms"),
    ("Shared", "README.md", "index"),
    ("Shared", "Holiday calendar.txt", "vacation"),
)
_FOLDERS = ("Documents", "Projects", "Projects/Contoso Launch", "Projects/Fabrikam Renewal", "Reports", "Shared")


@dataclass(frozen=True)
class DriveItem:
    id: str
    name: str
    path: str
    """The folder path of the item inside the drive; "" for root."""
    parent_id: str
    size: int
    created: datetime
    modified: datetime
    created_by: User
    modified_by: User
    keywords: str = ""
    is_folder: bool = False

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower()


@dataclass(frozen=True)
class Drive:
    """A document library: a user's OneDrive (`site` None) or a SharePoint site's library."""

    id: str
    owner: User
    root_id: str
    items: dict[str, DriveItem]
    site: tuple[str, str, str] | None = None
    """(`sites` or `teams`, the site's URL name, the library's URL name) of a SharePoint library."""

    def children(self, parent_id: str) -> list[DriveItem]:
        return [item for item in self.items.values() if item.parent_id == parent_id]

    @property
    def base_url(self) -> str:
        """The library's root, unencoded: OneDrive's `personal/{UPN with '@' and '.' as '_'}/Documents`."""
        if self.site is None:
            return f"https://contoso-my.sharepoint.com/personal/{personal_segment(self.owner)}/Documents"
        kind, name, library = self.site
        return f"https://contoso.sharepoint.com/{kind}/{name}/{library}"

    def web_url(self, item: DriveItem | None) -> str:
        """Percent-encoded, as the drive API sends `webUrl`; search hits carry it unencoded (`raw_web_url`)."""
        return quote(self.raw_web_url(item), safe=":/")

    def raw_web_url(self, item: DriveItem | None) -> str:
        if item is None:
            return self.base_url
        return "/".join(part for part in (self.base_url, item.path, item.name) if part)


def personal_segment(user: User) -> str:
    """The OneDrive URL's `personal/…` segment: the UPN with `@` and `.` as `_` (`adele_contoso_onmicrosoft_com`)."""
    return user.user_principal_name.replace("@", "_").replace(".", "_")


def _item_id(user: User | str, path: str) -> str:
    """Shaped like OneDrive for Business ids: 34 upper-case base32 characters starting with 01."""
    key = user.id if isinstance(user, User) else user
    return "01" + base64.b32encode(_digest(key, "drive", path)[:20]).decode()[:32]


SHARED_FOLDER = "Shared"
"""Each user's OneDrive folder that is shared with everyone in the tenant: colleagues find its files in a search."""


@lru_cache(maxsize=512)  # about thirty items, built from hashes; asked for on every search of every colleague
def drive(user: User, today: date) -> Drive:
    """The user's OneDrive: a few folders and about thirty files, modified over the last weeks by colleagues."""
    others = [other for other in USERS if other != user]
    root_id = _item_id(user, "")
    anchor = datetime.combine(today, time(17), ZoneInfo(user.iana_time_zone)).astimezone(UTC)
    items: dict[str, DriveItem] = {}
    for folder in _FOLDERS:
        parent, _, name = folder.rpartition("/")
        created = anchor - timedelta(days=90 + len(folder))
        items[_item_id(user, folder)] = DriveItem(
            id=_item_id(user, folder), name=name, path=parent, parent_id=_item_id(user, parent), size=0,
            created=created, modified=created, created_by=user, modified_by=user, is_folder=True,
        )
    for index, (folder, name, keywords) in enumerate(_FILES):
        seed = _number(user.id, folder, name)
        largest = 20_000 if name.endswith((".txt", ".md")) else 3_000_000
        modified = anchor - timedelta(hours=seed % (42 * 24), minutes=index)
        created = modified - timedelta(days=seed % 30 + 1)
        item = DriveItem(
            id=_item_id(user, f"{folder}/{name}"), name=name, path=folder, parent_id=_item_id(user, folder),
            size=500 + seed % largest, created=created, modified=modified, created_by=user,
            modified_by=others[seed % len(others)] if index % 3 else user, keywords=keywords,
        )
        items[item.id] = item
    for folder in _FOLDERS:
        inside = [item.size for item in items.values() if f"{item.path}/".startswith(f"{folder}/")]
        items[_item_id(user, folder)] = replace(items[_item_id(user, folder)], size=sum(inside))
    drive_id = "b!" + base64.urlsafe_b64encode(_digest(user.id, "drive-id")[:48]).decode()
    return Drive(id=drive_id, owner=user, root_id=root_id, items=items)


# --- photos ----------------------------------------------------------------------------------------------------

PHOTO_SIZES = (48, 64, 96, 120, 240)


@cache  # a few KB per user and size, and drawing one costs milliseconds
def photo(user: User, size: int) -> bytes:
    """A square avatar as Exchange stores and sends profile photos, a JPEG (profilephoto: `@odata.mediaContentType`
    `image/jpeg` in every recorded example): the user's colour with a lighter diagonal band and a 4×4 checker of
    their hash, drawn in 8×8 blocks of one colour each (`_jpeg`)."""
    digest = _digest(user.id, "photo")
    base = tuple(64 + value % 128 for value in digest[:3])
    light = tuple(min(255, value + 80) for value in base)
    cells = int.from_bytes(digest[3:5], "big")

    def colour(x: int, y: int) -> tuple[int, ...]:
        cell = (y * 4 // size) * 4 + x * 4 // size
        return light if abs(x - y) < size // 6 or cells >> cell & 1 else base

    return _jpeg(size, [[colour(bx * 8 + 4, by * 8 + 4) for bx in range(size // 8)] for by in range(size // 8)])


def _jpeg(size: int, blocks: list[list[tuple[int, ...]]]) -> bytes:
    """A baseline JPEG (ITU T.81) whose 8×8 blocks are each one RGB colour: every block is its DC coefficient alone
    (a flat block has no AC energy), coded with Annex K's DC tables and an AC table holding only end-of-block."""

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">HH", marker, len(body) + 2) + body

    def codes(bits: list[int], values: list[int]) -> dict[int, tuple[int, int]]:
        table, code, at = {}, 0, 0
        for length, count in enumerate(bits, start=1):
            for _ in range(count):
                table[values[at]] = (code, length)
                code, at = code + 1, at + 1
            code <<= 1
        return table

    dc_bits = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    eob_bits = [1] + [0] * 15
    tables = [codes(bits, list(range(12))) for bits in dc_bits]
    eob = codes(eob_bits, [0])[0]
    quant = bytes([8] + [1] * 63)  # DC in steps of 8: a block's DC is then its level-shifted value itself
    header = b"".join((
        b"\xff\xd8",
        segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xFFDB, b"\x00" + quant + b"\x01" + quant),
        segment(0xFFC0, struct.pack(">BHHB", 8, size, size, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"),
        *(segment(0xFFC4, bytes([klass << 4 | index, *bits, *values])) for klass, index, bits, values in (
            (0, 0, dc_bits[0], range(12)), (1, 0, eob_bits, [0]), (0, 1, dc_bits[1], range(12)),
            (1, 1, eob_bits, [0]))),
        segment(0xFFDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"),
    ))
    bits, count, out = 0, 0, bytearray()

    def put(value: int, length: int) -> None:
        nonlocal bits, count
        bits, count = bits << length | value, count + length
        while count >= 8:
            byte = bits >> (count - 8) & 0xFF
            out.extend(b"\xff\x00" if byte == 0xFF else bytes([byte]))
            count -= 8
        bits &= (1 << count) - 1

    previous = [0, 0, 0]
    for row in blocks:
        for red, green, blue in row:
            levels = (0.299 * red + 0.587 * green + 0.114 * blue,
                      -0.1687 * red - 0.3313 * green + 0.5 * blue + 128,
                      0.5 * red - 0.4187 * green - 0.0813 * blue + 128)
            for component, level in enumerate(levels):
                dc = round(level) - 128
                diff, previous[component] = dc - previous[component], dc
                category = abs(diff).bit_length()
                put(*tables[min(component, 1)][category])
                if category:
                    put(diff if diff > 0 else diff + (1 << category) - 1, category)
                put(*eob)
    if count:
        put((1 << (8 - count)) - 1, 8 - count)
    return header + bytes(out) + b"\xff\xd9"


# --- SharePoint sites --------------------------------------------------------------------------------------------

# (site kind, site URL name, library URL name, owner, [(folder, name, keywords, hours ago, modified by)])
_SITES: tuple[tuple[str, str, str, str, tuple[tuple[str, str, str, int, str], ...]], ...] = (
    ("sites", "Marketing", "Shared Documents", "megan", (
        ("Campaigns #1", "Plan #2.docx", "campaign launch budget", 1, "megan"),
        ("Campaigns #1", "Budget 100% & more + tax.xlsx", "finance budget", 2, "patti"),
        ("Campaigns #1", "O'Brien's notes; v1, ok=yes @team ~(copy) [1] {x} ^$!.docx", "minutes", 3, "diego"),
        ("Brand", "Ünïcødé – résumé 日本語.pptx", "brand", 4, "isaiah"),
        ("", "Media kit 2026.pdf", "press budget", 5, "adele"),
    )),
    ("teams", "Retail", "Shared Documents", "adele", (
        ("General", "Store layout – Zürich.pptx", "stores", 2, "alex"),
        ("General", "Weekly sales.xlsx", "sales budget", 6, "adele"),
    )),
    ("sites", "Contoso", "SitePages", "patti", (
        ("", "Quarterly news.aspx", "news budget", 1, "patti"),
        ("", "Welcome.aspx", "intranet home", 7, "megan"),
    )),
)
"""A tenant's SharePoint: a communication site, a team's site and the intranet's pages and news, everyone a member.
Names hold the characters SharePoint allows beyond letters and digits (`# % & + ' , ; = @ ~ ( ) [ ] { } ^ $ !` and
non-ASCII letters; `" * : < > ? / \\ |` are not: SharePoint Online's rule as pnp/pnpjs encodes it in `@pnp/sp`
`utils/file-names.js`), and most were changed more recently than anyone's OneDrive."""


@cache
def site_libraries(today: date) -> tuple[Drive, ...]:
    """The SharePoint libraries every user of the tenant can open, as of `today` (UTC)."""
    anchor = datetime.combine(today, time(17), UTC)
    libraries = []
    for kind, name, library, owner, files in _SITES:
        key = f"site:{kind}/{name}/{library}"
        root_id = _item_id(key, "")
        items: dict[str, DriveItem] = {}
        for folder in sorted({folder for folder, *_ in files if folder}):
            created = anchor - timedelta(days=60)
            items[_item_id(key, folder)] = DriveItem(
                id=_item_id(key, folder), name=folder, path="", parent_id=root_id, size=0, created=created,
                modified=created, created_by=user_by_username(owner), modified_by=user_by_username(owner),
                is_folder=True)
        for folder, file_name, keywords, hours_ago, modified_by in files:
            modified = anchor - timedelta(hours=hours_ago)
            path = f"{folder}/{file_name}" if folder else file_name
            item = DriveItem(
                id=_item_id(key, path), name=file_name, path=folder,
                parent_id=_item_id(key, folder) if folder else root_id, size=1000 + _number(key, path) % 900_000,
                created=modified - timedelta(days=3), modified=modified, created_by=user_by_username(owner),
                modified_by=user_by_username(modified_by), keywords=keywords)
            items[item.id] = item
        drive_id = "b!" + base64.urlsafe_b64encode(_digest(key, "drive-id")[:48]).decode()
        libraries.append(Drive(id=drive_id, owner=user_by_username(owner), root_id=root_id, items=items,
                               site=(kind, name, library)))
    return tuple(libraries)
