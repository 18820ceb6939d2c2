"""Microsoft Graph v1.0, local: the user, photo, manager, presence, mailbox settings, calendar view, OneDrive,
Microsoft Search (`/search/query`) and `$batch`.

Answers as Graph does (statuses, OData error shape, `request-id` headers, `@odata.context`, `@odata.nextLink`,
`Prefer: outlook.timezone`), so msgraph-sdk's typed models, retry middleware and error handling work unchanged, and
refuses what Graph refuses, so a client that gets it wrong fails here too. Every behaviour and the Microsoft Learn page
it comes from is listed in `GRAPH_BEHAVIOUR.md`. Content comes from `seed.py`. Every route is a plain function of
(call, user, match) so `$batch` runs them too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import random
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from multidict import CIMultiDict, MultiDict
from tzlocal.windows_tz import win_tz

from . import seed
from .faults import Fault
from .tenant import GRAPH_APP_ID, GRAPH_RESOURCE, User, stable_id
from .tokens import TokenRejected

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
AUDIENCES = [GRAPH_RESOURCE, GRAPH_APP_ID]
MAX_BATCH = 20
PATH_SAFE = "/()'=,$:@!*;+&"
"""What Graph leaves unescaped in the paths of the links it builds: OData's key and function syntax."""

# Windows time zone names (as Outlook stores them) and the IANA zone each means, from CLDR's windowsZones.
_WINDOWS_BY_LOWER = {name.lower(): name for name in win_tz}

DOCUMENTED_IANA_ZONES = (
    "Etc/GMT+12", "Etc/GMT+11", "Pacific/Honolulu", "America/Anchorage", "America/Santa_Isabel",
    "America/Los_Angeles", "America/Phoenix", "America/Chihuahua", "America/Denver", "America/Guatemala",
    "America/Chicago", "America/Mexico_City", "America/Regina", "America/Bogota", "America/New_York",
    "America/Indiana/Indianapolis", "America/Caracas", "America/Asuncion", "America/Halifax", "America/Cuiaba",
    "America/La_Paz", "America/Santiago", "America/St_Johns", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
    "America/Cayenne", "America/Godthab", "America/Montevideo", "America/Bahia", "Etc/GMT+2", "Atlantic/Azores",
    "Atlantic/Cape_Verde", "Africa/Casablanca", "Etc/GMT", "Europe/London", "Atlantic/Reykjavik", "Europe/Berlin",
    "Europe/Budapest", "Europe/Paris", "Europe/Warsaw", "Africa/Lagos", "Africa/Windhoek", "Europe/Bucharest",
    "Asia/Beirut", "Africa/Cairo", "Asia/Damascus", "Africa/Johannesburg", "Europe/Kyiv", "Europe/Kiev",
    "Europe/Istanbul", "Asia/Jerusalem", "Asia/Amman", "Asia/Baghdad", "Europe/Kaliningrad", "Asia/Riyadh",
    "Africa/Nairobi", "Asia/Tehran", "Asia/Dubai", "Asia/Baku", "Europe/Moscow", "Indian/Mauritius", "Asia/Tbilisi",
    "Asia/Yerevan", "Asia/Kabul", "Asia/Karachi", "Asia/Toshkent", "Asia/Tashkent", "Asia/Kolkata", "Asia/Colombo",
    "Asia/Kathmandu", "Asia/Astana", "Asia/Almaty", "Asia/Dhaka", "Asia/Yekaterinburg", "Asia/Yangon", "Asia/Rangoon",
    "Asia/Bangkok", "Asia/Novosibirsk", "Asia/Shanghai", "Asia/Krasnoyarsk", "Asia/Singapore", "Australia/Perth",
    "Asia/Taipei", "Asia/Ulaanbaatar", "Asia/Irkutsk", "Asia/Tokyo", "Asia/Seoul", "Australia/Adelaide",
    "Australia/Darwin", "Australia/Brisbane", "Australia/Sydney", "Pacific/Port_Moresby", "Australia/Hobart",
    "Asia/Yakutsk", "Pacific/Guadalcanal", "Asia/Vladivostok", "Pacific/Auckland", "Etc/GMT-12", "Pacific/Fiji",
    "Asia/Magadan", "Pacific/Tongatapu", "Pacific/Apia", "Pacific/Kiritimati",
)
"""The IANA names `Prefer: outlook.timezone` accepts besides Windows names, from the dateTimeTimeZone resource page
(https://learn.microsoft.com/graph/api/resources/datetimetimezone). Where the page gives two spellings
("Europe/Kyiv (Kiev)", "Asia/Toshkent (Tashkent)", "Asia/Astana (Almaty)", "Asia/Yangon (Rangoon)") both are taken;
any other IANA name (Europe/Amsterdam, America/Toronto) is refused as Graph refuses it."""
_IANA_BY_LOWER = {name.lower(): name for name in DOCUMENTED_IANA_ZONES}
_NOT_IN_TZDATA = {"Asia/Toshkent": "Asia/Tashkent", "Asia/Astana": "Asia/Almaty"}
"""Spellings of the page that the tz database lacks, computed as the zone they stand beside."""

USER_READ = ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
             "Directory.Read.All", "Directory.ReadWrite.All")
MANAGER_READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
                "User.ReadBasic.All")
"""`/me/manager`: user-list-manager documents User.Read.All as the least privileged delegated permission (User.Read
alone is refused); User.ReadBasic.All is honoured as Graph does by undocumented behaviour, with the basic profile."""
BASIC_PROFILE = ("displayName", "givenName", "surname", "mail", "userPrincipalName", "id")
"""What User.ReadBasic.All reads of another user (permissions-reference: "display name, first and last name, email
address, open extensions and photo"); every other property comes back null."""
PRESENCE_READ = ("Presence.Read", "Presence.Read.All", "Presence.ReadWrite")
MAILBOX_SETTINGS_READ = ("MailboxSettings.Read", "MailboxSettings.ReadWrite")
CALENDARS_BASIC = ("Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared",
                   "Calendars.ReadWrite.Shared")
FILES_READ = ("Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All",
              "Sites.ReadWrite.All")
SEARCH_DRIVE_ITEMS = ("Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All")
"""`/search/query` over driveItem: Files.Read (the user's own files only) is not enough (search-api-overview)."""

DIRECTORY_DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
EXCHANGE_DENIED = ("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
PRESENCE_DENIED = ("Forbidden", "Insufficient privileges to complete the operation.")
DRIVE_DENIED = ("accessDenied", "Access denied")
SEARCH_DENIED = ("accessDenied", "The caller does not have permission to perform the action.")
"""Microsoft Learn shows no 403 body for `/search/query`; this is SharePoint's, which answers driveItem searches."""

USER_DEFAULT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                "preferredLanguage", "surname", "userPrincipalName", "id")
# Real user properties this directory does not model: selectable, always null.
USER_UNMODELLED = ("aboutMe", "accountEnabled", "city", "companyName", "country", "employeeId", "faxNumber",
                   "postalCode", "state", "streetAddress", "usageLocation", "userType", "onPremisesSamAccountName")


class GraphError(Exception):
    """An answer in Graph's error shape."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


@dataclass
class Reply:
    body: dict[str, Any] | bytes
    status: int = 200
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One Graph request, from HTTP or from a `$batch` item; `path` is decoded and relative to `/v1.0`."""

    method: str
    path: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    claims: dict[str, Any]
    body: Any = None
    """The JSON body of a POST (`/search/query`); None for a GET."""

    def option(self, name: str) -> str | None:
        """A system query option, with or without its `$` (Graph accepts both)."""
        return self.query.get(f"${name}", self.query.get(name))


Handler = Callable[[Call, User, "re.Match[str]"], Reply]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...]
    denied: tuple[str, str]
    method: str = "GET"
    mailbox: bool = False
    """Answered from the user's Exchange Online mailbox: refused for a user without one (`mailbox_refusal`)."""


DRIVE_ITEM_FACETS = ("file", "folder", "image", "root", "package", "remoteItem")
"""driveItem properties that exist on the type even where an item has no value for them."""


def _select(call: Call, available: Mapping[str, Any], entity: str, default: tuple[str, ...] | None = None,
            always: tuple[str, ...] = ("id",), optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Apply `$select` (or the default property set) the way Graph does, rejecting unknown properties;
    `optional` names properties of the type that this object happens to lack (they are left out, not refused)."""
    raw = call.option("select")
    if not raw:
        names = list(default) if default is not None else list(available)
    else:
        names = [name.strip() for name in raw.split(",") if name.strip()]
        lower = {key.lower(): key for key in (*available, *optional)}
        unknown = [name for name in names if name.lower() not in lower]
        if unknown:
            raise bad_request(f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.{entity}'.")
        names = [*always, *(lower[name.lower()] for name in names)]
    return {name: available[name] for name in dict.fromkeys(names) if name in available}


def _selected_context(call: Call) -> str:
    raw = call.option("select")
    return f"({raw.replace(' ', '')})" if raw else ""


def _int_option(call: Call, name: str, default: int, maximum: int) -> int:
    raw = call.option(name)
    if raw is None:
        return default
    if not raw.isdigit() or (name == "top" and int(raw) == 0):
        raise bad_request(f"Invalid value '{raw}' for query option '${name}'.")
    return min(int(raw), maximum)


def _graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000")


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _email(user: User) -> dict[str, str]:
    return {"name": user.display_name, "address": user.mail}


def resolve_zone(name: str) -> tuple[ZoneInfo, str] | None:
    """A `Prefer: outlook.timezone` value as a zone and the name Graph echoes back: a Windows name, or one of the
    IANA names the dateTimeTimeZone page lists; None for any other (Graph answers those 400)."""
    windows = _WINDOWS_BY_LOWER.get(name.lower())
    if windows:
        return ZoneInfo(win_tz[windows]), windows
    iana = _IANA_BY_LOWER.get(name.lower())
    if iana is None:
        return None
    try:
        return ZoneInfo(_NOT_IN_TZDATA.get(iana, iana)), name
    except (ZoneInfoNotFoundError, ValueError):  # a name this machine's tz database lacks
        return None


def granted_scopes(call: Call) -> set[str]:
    return {scope.lower() for scope in str(call.claims.get("scp", "")).split()}


def basic_calendar_access(call: Call) -> bool:
    """Only `Calendars.ReadBasic`: events come without body, preview and attendees."""
    return not granted_scopes(call) & {scope.lower() for scope in CALENDARS_BASIC[1:]}


class GraphService:
    """The routes of the local Graph for one cloud."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        me = r"/me"
        photo_size = r"(?P<size>\d+x\d+)"
        drive = r"(?:/me/drive|/drives/(?P<drive>[\w!=-]+))"
        item = r"/items/(?P<id>[\w!-]+)"
        self.routes = [
            Route(re.compile(me, re.I), self.me, USER_READ, DIRECTORY_DENIED),
            Route(re.compile(me + r"/photo", re.I), self.photo_metadata, USER_READ, EXCHANGE_DENIED),
            Route(re.compile(me + r"/photo/\$value", re.I), self.photo_value, USER_READ, EXCHANGE_DENIED),
            Route(re.compile(me + rf"/photos/{photo_size}", re.I), self.photo_metadata, USER_READ, EXCHANGE_DENIED),
            Route(re.compile(me + rf"/photos/{photo_size}/\$value", re.I), self.photo_value, USER_READ,
                  EXCHANGE_DENIED),
            Route(re.compile(me + r"/manager", re.I), self.manager, MANAGER_READ, DIRECTORY_DENIED),
            Route(re.compile(me + r"/presence", re.I), self.presence, PRESENCE_READ, PRESENCE_DENIED),
            Route(re.compile(me + r"/mailboxSettings", re.I), self.mailbox_settings, MAILBOX_SETTINGS_READ,
                  EXCHANGE_DENIED, mailbox=True),
            Route(re.compile(me + r"/mailboxSettings/timeZone", re.I), self.mailbox_time_zone, MAILBOX_SETTINGS_READ,
                  EXCHANGE_DENIED, mailbox=True),
            Route(re.compile(me + r"/calendarView", re.I), self.calendar_view, CALENDARS_BASIC, EXCHANGE_DENIED,
                  mailbox=True),
            Route(re.compile(me + r"/events/(?P<id>[\w=-]+)", re.I), self.event, CALENDARS_BASIC, EXCHANGE_DENIED,
                  mailbox=True),
            Route(re.compile(r"/me/drive", re.I), self.drive, FILES_READ, DRIVE_DENIED),
            Route(re.compile(drive + r"/root", re.I), self.drive_item, FILES_READ, DRIVE_DENIED),
            Route(re.compile(drive + item, re.I), self.drive_item, FILES_READ, DRIVE_DENIED),
            Route(re.compile(drive + r"/root/children", re.I), self.drive_children, FILES_READ, DRIVE_DENIED),
            Route(re.compile(drive + item + "/children", re.I), self.drive_children, FILES_READ, DRIVE_DENIED),
            Route(re.compile(drive + r"/root/search\(q='(?P<q>(?:[^']|'')*)'\)", re.I), self.drive_search,
                  FILES_READ, DRIVE_DENIED),
            Route(re.compile(r"/search/query", re.I), self.search_query, SEARCH_DRIVE_ITEMS, SEARCH_DENIED, "POST"),
        ]
        self.known_segments = {
            "me", "photo", "photos", "$value", "manager", "presence", "mailboxsettings", "timezone", "calendarview",
            "events", "drive", "drives", "root", "items", "children",
        }

    @property
    def base(self) -> str:
        return f"{self.cloud.endpoints.graph}/v1.0"

    def context(self, fragment: str) -> str:
        return f"{self.base}/$metadata#{fragment}"

    # --- dispatch --------------------------------------------------------------------------------------------

    def dispatch(self, call: Call) -> Reply:
        """Route, authorize and answer one request (the token itself was verified by the caller)."""
        path = call.path.rstrip("/") or "/"
        route, match = next(
            ((route, match) for route in self.routes if (match := route.pattern.fullmatch(path))), (None, None)
        )
        if route is None or match is None:
            raise self.unknown_segment(path)
        if call.method != route.method:
            raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        if "scp" not in call.claims:
            if path.lower().startswith("/me"):
                raise bad_request("/me request is only valid with delegated authentication flow.")
            raise GraphError(403, *route.denied)
        if not granted_scopes(call) & {scope.lower() for scope in route.scopes}:
            raise GraphError(403, *route.denied)
        user = self.cloud.directory.users.get(call.claims.get("oid"))
        if user is None:
            raise GraphError(404, "Request_ResourceNotFound",
                             f"Resource '{call.claims.get('oid')}' does not exist or one of its queried "
                             "reference-property objects are not present.")
        if route.mailbox and user.mailbox != "exchange-online":
            raise mailbox_refusal(user, call.claims)
        return route.handler(call, user, match)

    def unknown_segment(self, path: str) -> GraphError:
        segments = [segment for segment in path.split("/") if segment]
        if segments and segments[0].lower() in ("me", "drives"):
            for segment in segments:
                if segment.lower() not in self.known_segments:
                    return bad_request(f"Resource not found for the segment '{segment}'.")
            return bad_request(f"Resource not found for the segment '{segments[-1]}'.")
        if segments and segments[0].lower() == "users":
            return GraphError(404, "Request_ResourceNotFound",
                              "The local Graph serves the signed-in user's data under /me only.")
        return bad_request(f"Resource not found for the segment '{segments[0] if segments else ''}'.")

    # --- users -----------------------------------------------------------------------------------------------

    @staticmethod
    def user_properties(user: User) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "businessPhones": [user.business_phone] if user.business_phone else [],
            "displayName": user.display_name,
            "givenName": user.given_name,
            "jobTitle": user.job_title,
            "mail": user.mail,
            "mobilePhone": user.mobile_phone,
            "officeLocation": user.office_location,
            "preferredLanguage": seed.locale_of(user).locale,
            "surname": user.surname,
            "userPrincipalName": user.user_principal_name,
            "id": user.id,
            "department": user.department,
        }
        return properties | dict.fromkeys(USER_UNMODELLED)

    def me(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        body = _select(call, self.user_properties(user), "user", USER_DEFAULT)
        return Reply({"@odata.context": self.context(f"users{_selected_context(call)}/$entity"), **body})

    def manager(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        manager = seed.manager_of(user)
        if manager is None:
            raise GraphError(404, "Request_ResourceNotFound",
                             "Resource 'manager' does not exist or one of its queried reference-property objects "
                             "are not present.")
        properties = self.user_properties(manager)
        if not granted_scopes(call) & {scope.lower() for scope in MANAGER_READ[:-1]}:
            properties = {name: value if name in BASIC_PROFILE else None for name, value in properties.items()}
        body = _select(call, properties, "user", USER_DEFAULT)
        return Reply({"@odata.context": self.context("directoryObjects/$entity"),
                      "@odata.type": "#microsoft.graph.user", **body})

    @staticmethod
    def photo_size(user: User, match: re.Match[str]) -> int:
        """The requested size (`/photo` is the largest); 404 `ImageNotFound` without a photo or for other sizes."""
        requested = (match.groupdict().get("size") or "").lower()
        size = max(seed.PHOTO_SIZES)
        if requested:
            width, _, height = requested.partition("x")
            size = int(width) if width == height else 0
        if not user.has_photo or size not in seed.PHOTO_SIZES:
            raise GraphError(404, "ImageNotFound",
                             "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' "
                             "was thrown.")
        return size

    def photo_metadata(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        size = self.photo_size(user, match)
        etag = base64.b64encode(seed.photo(user, size)[-16:]).decode()
        return Reply({
            "@odata.context": self.context(f"users('{user.id}')/photo/$entity"),
            "@odata.mediaContentType": "image/jpeg",  # profilephoto's recorded examples: Exchange stores JPEG
            "@odata.mediaEtag": f'W/"{etag}"',
            "id": f"{size}X{size}",
            "height": size,
            "width": size,
        })

    def photo_value(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        return Reply(seed.photo(user, self.photo_size(user, match)), content_type="image/jpeg")

    def presence(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        return Reply({
            "@odata.context": self.context(f"users('{user.id}')/presence/$entity"),
            "id": user.id,
            "availability": user.availability,
            "activity": user.activity,
            "statusMessage": None,
        })

    def mailbox_settings(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        locale = seed.locale_of(user)
        no_reply = {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"}
        settings = {
            "automaticRepliesSetting": {"status": "disabled", "externalAudience": "all",
                                        "scheduledStartDateTime": no_reply, "scheduledEndDateTime": no_reply,
                                        "internalReplyMessage": "", "externalReplyMessage": ""},
            "timeZone": user.time_zone,
            "language": {"locale": locale.locale, "displayName": locale.display_name},
            "dateFormat": locale.date_format,
            "timeFormat": locale.time_format,
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "09:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": user.time_zone},
            },
            "userPurpose": {"value": "user"},
            "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        }
        body = _select(call, settings, "mailboxSettings", always=())
        return Reply({"@odata.context": self.context(f"users('{user.id}')/mailboxSettings"), **body})

    def mailbox_time_zone(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        """One setting, as user-get-mailboxsettings documents `GET /me/mailboxSettings/timeZone`: a primitive
        property, so its value is in `value`."""
        return Reply({"@odata.context": self.context(f"users('{user.id}')/mailboxSettings/timeZone"),
                      "value": user.time_zone})

    # --- calendar --------------------------------------------------------------------------------------------

    @staticmethod
    def preferred_zone(call: Call) -> tuple[ZoneInfo, str, bool]:
        """The `Prefer: outlook.timezone` zone, its name as echoed, and whether it was asked for (else UTC, as
        user-list-calendarview documents). A name Graph does not support is refused: 400
        `TimeZoneNotSupportedException` with Graph's message (the dateTimeTimeZone page lists what it supports)."""
        found = re.search(r'outlook\.timezone\s*=\s*"?([^",]*)"?', call.headers.get("Prefer", ""), re.I)
        if not found:
            return ZoneInfo("UTC"), "UTC", False
        name = found.group(1).strip()
        resolved = resolve_zone(name)
        if resolved is None:
            raise bad_request("A valid TimeZone value must be specified. The following TimeZone value is not "
                              f"supported: '{name}'.", "TimeZoneNotSupportedException")
        return resolved[0], resolved[1], True

    def event_json(self, event: seed.Event, zone: ZoneInfo, zone_name: str) -> dict[str, Any]:
        if event.is_all_day:
            # An all-day event is a date, not an instant: midnight to midnight of its own days whatever zone is
            # asked for (the event resource: "start and end time must be set to midnight"; Microsoft Q&A 1382503
            # and 978210: Prefer does not move it, and without Prefer it comes labelled UTC on its own date).
            start, end = event.start.replace(tzinfo=None), event.end.replace(tzinfo=None)
        else:
            start, end = event.start.astimezone(zone), event.end.astimezone(zone)
        is_organizer = event.organizer == event.owner
        online = event.join_url
        body = {
            "@odata.etag": f'W/"{base64.b64encode(event.id[-12:].encode()).decode()}"',
            "id": event.id,
            "createdDateTime": _utc_stamp(event.created),
            "lastModifiedDateTime": _utc_stamp(event.created),
            "subject": event.subject,
            "bodyPreview": event.body[:255],
            "body": {"contentType": "html", "content": f"<html><body><p>{event.body}</p></body></html>"},
            "importance": event.importance,
            "sensitivity": event.sensitivity,
            "isAllDay": event.is_all_day,
            "isCancelled": event.is_cancelled,
            "isOrganizer": is_organizer,
            "responseRequested": True,
            "seriesMasterId": event.series_master_id,
            "showAs": event.show_as,
            "type": event.type,
            "webLink": f"https://outlook.office365.com/owa/?itemid={event.id}&exvsurl=1&path=/calendar/item",
            "isOnlineMeeting": online is not None,
            "onlineMeetingProvider": "teamsForBusiness" if online else "unknown",
            "onlineMeeting": {"joinUrl": online} if online else None,
            "responseStatus": {"response": "organizer" if is_organizer else "accepted",
                               "time": "0001-01-01T00:00:00Z"},
            "originalStartTimeZone": event.owner.time_zone,
            "originalEndTimeZone": event.owner.time_zone,
            "iCalUId": hashlib.sha256(event.id.encode()).hexdigest()[:112].upper(),
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": not event.is_all_day,
            "start": {"dateTime": _graph_time(start), "timeZone": zone_name},
            "end": {"dateTime": _graph_time(end), "timeZone": zone_name},
            "location": {"displayName": event.location, "locationType": "default" if event.location else None,
                         "uniqueIdType": "unknown" if event.location else None},
            "recurrence": self.recurrence(event),
            "attendees": [
                {"type": "required", "status": {"response": "none" if other == event.organizer else "accepted",
                                                "time": "0001-01-01T00:00:00Z"},
                 "emailAddress": _email(other)}
                for other in event.attendees
            ],
            "organizer": {"emailAddress": _email(event.organizer)},
        }
        return body

    def selected_event(self, call: Call, event: seed.Event, zone: ZoneInfo, zone_name: str) -> dict[str, Any]:
        """`$select` over all event properties; with only `Calendars.ReadBasic` the private ones are left out."""
        body = _select(call, self.event_json(event, zone, zone_name), "event", always=("@odata.etag", "id"))
        if basic_calendar_access(call):
            for name in ("body", "bodyPreview", "attendees"):
                body.pop(name, None)
        return body

    @staticmethod
    def recurrence(event: seed.Event) -> dict[str, Any] | None:
        if event.series is None:
            return None
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        return {
            "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                        "daysOfWeek": [days[day] for day in event.series.days_of_week],
                        "firstDayOfWeek": "sunday", "index": "first"},
            "range": {"type": "endDate", "startDate": event.series.start_date.isoformat(),
                      "endDate": event.series.end_date.isoformat(), "recurrenceTimeZone": event.owner.time_zone,
                      "numberOfOccurrences": 0},
        }

    @staticmethod
    def window_bound(call: Call, name: str) -> datetime:
        raw = call.query.get(name) or next((v for k, v in call.query.items() if k.lower() == name.lower()), None)
        if not raw:
            raise bad_request("This request requires a time window specified by the query string parameters "
                              "StartDateTime and EndDateTime.", "ErrorInvalidParameters")
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "+"))
        except ValueError:
            raise bad_request(f"The value '{raw}' of parameter '{name}' is invalid.",
                              "ErrorInvalidParameters") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if not 1900 <= moment.year <= 2200:
            raise bad_request(f"The value '{raw}' of parameter '{name}' is out of range.", "ErrorInvalidParameters")
        return moment

    def calendar_view(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        start, end = self.window_bound(call, "startDateTime"), self.window_bound(call, "endDateTime")
        if end < start:
            raise bad_request("The parameter 'EndDateTime' must be later than 'StartDateTime'.",
                              "ErrorInvalidParameters")
        top = _int_option(call, "top", 10, 1000)
        skip = _int_option(call, "skip", 0, 1_000_000)
        events = self.events_between(user, start, end)
        order = (call.option("orderby") or "start/dateTime").strip()
        found = re.fullmatch(r"(start/dateTime|end/dateTime|subject)(?:\s+(asc|desc))?", order, re.I)
        if not found:
            raise bad_request(f"The property '{order}' cannot be used in the $orderby query option.",
                              "ErrorInvalidProperty")
        key: dict[str, Callable[[seed.Event], Any]] = {
            "start/datetime": lambda event: (event.start, event.subject),
            "end/datetime": lambda event: (event.end, event.subject),
            "subject": lambda event: (event.subject.lower(), event.start),
        }
        events.sort(key=key[found.group(1).lower()], reverse=(found.group(2) or "").lower() == "desc")
        zone, zone_name, applied = self.preferred_zone(call)
        page = [self.selected_event(call, event, zone, zone_name) for event in events[skip:skip + top]]
        body: dict[str, Any] = {
            "@odata.context": self.context(f"users('{user.id}')/calendarView{_selected_context(call)}"),
            "value": page,
        }
        if skip + top < len(events):
            body["@odata.nextLink"] = self.next_link(call, "$skip", str(skip + top))
        headers = {"Preference-Applied": f'outlook.timezone="{zone_name}"'} if applied else {}
        return Reply(body, headers=headers)

    def events_between(self, user: User, start: datetime, end: datetime) -> list[seed.Event]:
        """Single events and expanded occurrences overlapping [start, end); series masters themselves are not."""
        today = seed.today_for(user)
        zone = ZoneInfo(user.iana_time_zone)
        first, last = start.astimezone(zone).date() - timedelta(days=1), end.astimezone(zone).date()
        found: list[seed.Event] = []
        for event in seed.calendar(user, today):
            candidates = event.occurrences(first, last) if event.series else [event]
            found += [item for item in candidates if item.start < end and item.end > start]
        return found

    def event(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        event = seed.find_event(user, seed.today_for(user), match["id"])
        if event is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        zone, zone_name, applied = self.preferred_zone(call)
        body = self.selected_event(call, event, zone, zone_name)
        headers = {"Preference-Applied": f'outlook.timezone="{zone_name}"'} if applied else {}
        return Reply({"@odata.context": self.context(f"users('{user.id}')/events/$entity"), **body}, headers=headers)

    def next_link(self, call: Call, name: str, value: str) -> str:
        """An absolute next-page URL that keeps every query option of this request."""
        query = [(key, item) for key, item in call.query.items() if key.lower() not in (name.lower(), name[1:])]
        path = quote(call.path, safe=PATH_SAFE)
        return f"{self.base}{path}?{urlencode([*query, (name, value)], safe='$', quote_via=quote)}"

    # --- drive -----------------------------------------------------------------------------------------------

    def item_json(self, drive: seed.Drive, item: seed.DriveItem | None) -> dict[str, Any]:
        """A driveItem; `None` is the drive's root folder."""
        owner = {"user": {"email": drive.owner.mail, "id": drive.owner.id, "displayName": drive.owner.display_name}}
        if item is None:
            children = drive.children(drive.root_id)
            return {"id": drive.root_id, "name": "root", "webUrl": drive.web_url(None),
                    "size": sum(child.size for child in children), "createdBy": owner, "lastModifiedBy": owner,
                    "parentReference": {"driveType": "business", "driveId": drive.id},
                    "folder": {"childCount": len(children)}, "root": {}}
        created_by, modified_by = item.created_by, item.modified_by
        body: dict[str, Any] = {
            "@odata.etag": f'"{{{uuid.UUID(bytes=item.id.encode()[2:18])}}},1"',
            "createdDateTime": _utc_stamp(item.created),
            "eTag": f'"{{{uuid.UUID(bytes=item.id.encode()[2:18])}}},1"',
            "id": item.id,
            "lastModifiedDateTime": _utc_stamp(item.modified),
            "name": item.name,
            "webUrl": drive.web_url(item),
            "cTag": f'"c:{{{uuid.UUID(bytes=item.id.encode()[2:18])}}},1"',
            "size": item.size,
            "createdBy": {"user": {"email": created_by.mail, "id": created_by.id,
                                   "displayName": created_by.display_name}},
            "lastModifiedBy": {"user": {"email": modified_by.mail, "id": modified_by.id,
                                        "displayName": modified_by.display_name}},
            # itemReference: "Percent-encoded path that can be used to navigate to the item".
            "parentReference": {"driveType": "business", "driveId": drive.id, "id": item.parent_id,
                                "path": "/drive/root:" + (quote(f"/{item.path}") if item.path else "")},
            "fileSystemInfo": {"createdDateTime": _utc_stamp(item.created),
                               "lastModifiedDateTime": _utc_stamp(item.modified)},
        }
        if item.is_folder:
            body["folder"] = {"childCount": len(drive.children(item.id))}
        else:
            body["file"] = {"mimeType": seed.MIME_TYPES[item.extension]}
        return body

    @staticmethod
    def user_drive(user: User, match: re.Match[str] | None = None) -> seed.Drive:
        """The user's OneDrive; a `/drives/{id}` path must name it (no other drive is shared with the user)."""
        drive = seed.drive(user, seed.today_for(user))
        wanted = match.groupdict().get("drive") if match else None
        if wanted is not None and wanted != drive.id:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return drive

    def drive(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        drive = self.user_drive(user)
        owner = {"user": {"email": user.mail, "id": user.id, "displayName": user.display_name}}
        body = {"id": drive.id, "driveType": "business", "name": "OneDrive", "webUrl": drive.web_url(None),
                "createdBy": owner, "owner": owner,
                "quota": {"deleted": 0, "remaining": 1_099_511_627_776 - drive_usage(drive),
                          "state": "normal", "total": 1_099_511_627_776, "used": drive_usage(drive)}}
        return Reply({"@odata.context": self.context("drives/$entity"), **_select(call, body, "drive")})

    @staticmethod
    def find_item(drive: seed.Drive, match: re.Match[str]) -> seed.DriveItem | None:
        """The addressed item; `None` for the root. Raises 404 for an unknown id."""
        item_id = match.groupdict().get("id")
        if item_id is None or item_id.lower() == "root" or item_id == drive.root_id:
            return None
        if item_id not in drive.items:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return drive.items[item_id]

    def drive_item(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        drive = self.user_drive(user, match)
        body = _select(call, self.item_json(drive, self.find_item(drive, match)), "driveItem",
                       optional=DRIVE_ITEM_FACETS)
        return Reply({"@odata.context": self.context(f"users('{user.id}')/drive/items/$entity"), **body})

    def drive_page(self, call: Call, items: list[seed.DriveItem], drive: seed.Drive, context: str) -> Reply:
        """One `$top` page of items with `$select`, and an `@odata.nextLink` carrying a `$skiptoken`."""
        top = _int_option(call, "top", 200, 1000)
        token = call.option("skiptoken")
        offset = 0
        if token:
            try:
                text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("latin-1")
            except ValueError:  # binascii.Error is a ValueError
                text = ""
            decoded = re.fullmatch(r"Paged=TRUE&p_Index=(\d+)", text)
            if decoded is None:
                raise bad_request("Invalid skip token.", "invalidRequest")
            offset = int(decoded.group(1))
        page = [_select(call, self.item_json(drive, item), "driveItem", optional=DRIVE_ITEM_FACETS)
                for item in items[offset:offset + top]]
        body: dict[str, Any] = {"@odata.context": self.context(context), "value": page}
        if offset + top < len(items):
            token = base64.urlsafe_b64encode(f"Paged=TRUE&p_Index={offset + top}".encode()).decode().rstrip("=")
            body["@odata.nextLink"] = self.next_link(call, "$skiptoken", token)
        return Reply(body)

    def drive_children(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        drive = self.user_drive(user, match)
        parent = self.find_item(drive, match)
        items = [] if parent is not None and not parent.is_folder else drive.children(
            parent.id if parent else drive.root_id)
        order = (call.option("orderby") or "name").strip()
        found = re.fullmatch(r"(name|lastModifiedDateTime|size)(?:\s+(asc|desc))?", order, re.I)
        if not found:
            raise bad_request(f"Invalid $orderby value '{order}'.", "invalidRequest")
        key: dict[str, Callable[[seed.DriveItem], Any]] = {
            "name": lambda item: item.name.lower(),
            "lastmodifieddatetime": lambda item: item.modified,
            "size": lambda item: item.size,
        }
        items.sort(key=key[found.group(1).lower()], reverse=(found.group(2) or "").lower() == "desc")
        where = f"items('{parent.id}')" if parent else "root"
        return self.drive_page(call, items, drive, f"users('{user.id}')/drive/{where}/children")

    def drive_search(self, call: Call, user: User, match: re.Match[str]) -> Reply:
        """Names first, then keyword matches, as relevance stands in for Graph's. OneDrive for Business sorts search
        results by name only (and url), so any other `$orderby` is refused rather than honoured: a client must not
        rest "recent files" on it (driveitem-search documents no order; issue 8)."""
        drive = self.user_drive(user, match)
        order = (call.option("orderby") or "").strip()
        found = re.fullmatch(r"(name)(?:\s+(asc|desc))?", order, re.I) if order else None
        if order and not found:
            raise bad_request(f"Search results cannot be sorted by '{order}'; only by name.", "invalidRequest")
        items = [item for _, item in relevance_order([(drive, item) for item in drive.items.values()],
                                                     match["q"].replace("''", "'").lower().split())]
        if found:
            items.sort(key=lambda item: item.name.lower(), reverse=(found.group(2) or "").lower() == "desc")
        return self.drive_page(call, items, drive, "Collection(driveItem)")

    # --- Microsoft Search ------------------------------------------------------------------------------------

    def search_query(self, call: Call, user: User, _: re.Match[str]) -> Reply:
        """`POST /search/query` over driveItem, as search-query, searchRequest and search-api-overview document it:
        one searchRequest, a required `queryString` (KQL: `KqlQuery`), `from`/`size` paging (size at most 500),
        `sortProperties` on sortable properties only (else 400), `fields` to trim the resource (unknown fields
        silently ignored). The index is tenant-wide, as search-api-overview says driveItem search covers what the user
        can open: their OneDrive, colleagues' folders shared with everyone, and every SharePoint site's libraries and
        pages (`search_index`)."""
        request = search_request(call.body)
        kql = KqlQuery.parse(request["query"]["queryString"])
        found = [(drive, item) for drive, item in relevance_order(search_index(user), kql.terms)
                 if kql.matches(drive, item)]
        for name, descending in reversed(request["sortProperties"]):
            found.sort(key=lambda pair, name=name: SORTABLE[name.lower()](pair[1]), reverse=descending)
        start, size = request["from"], request["size"]
        page = found[start:start + size]
        container: dict[str, Any] = {
            "total": len(found),
            "moreResultsAvailable": start + size < len(found),
        }
        if page:
            container = {"hits": [
                {"hitId": item.id, "rank": start + index + 1, "summary": search_summary(item, kql.terms),
                 "resource": trim_fields(search_resource(drive, item), request["fields"])}
                for index, (drive, item) in enumerate(page)
            ], **container}
        return Reply({"@odata.context": self.context("Collection(microsoft.graph.searchResponse)"),
                      "value": [{"searchTerms": kql.terms, "hitsContainers": [container]}]})

    # --- $batch ----------------------------------------------------------------------------------------------

    async def batch(self, payload: Any, claims: dict[str, Any], ids: tuple[str, str]) -> Reply:
        """JSON `$batch` (json-batching): up to 20 requests with URLs relative to the version, run concurrently
        except where `dependsOn` orders them; a request whose dependency failed is answered 424 without running.
        Ids are not case-sensitive and must be unique. "Individual responses might appear in a different order
        than the requests": they come shuffled, so a client that relies on the order fails here."""
        requests = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(requests, list) or not requests:
            raise bad_request("Invalid batch payload format.")
        if len(requests) > MAX_BATCH:
            raise bad_request(f"The number of batch requests in the payload exceeds the limit of {MAX_BATCH}.")
        answers: dict[str, asyncio.Task[dict[str, Any]]] = {}
        for item in requests:
            if not isinstance(item, dict) or not all(isinstance(item.get(key), str) for key in ("id", "method", "url")):
                raise bad_request("Each batch request needs string 'id', 'method' and 'url' properties.")
            item_id = item["id"].lower()
            if item_id in answers:
                raise bad_request(f"Batch request ids must be unique; '{item['id']}' appears more than once.")
            depends = item.get("dependsOn") or []
            if not isinstance(depends, list) or not all(isinstance(dep, str) for dep in depends):
                raise bad_request(f"The dependsOn of request '{item['id']}' must be a list of request ids.")
            if any(dep.lower() not in answers for dep in depends):
                raise bad_request(f"Request '{item['id']}' depends on a request that is not earlier in the batch.")
            answers[item_id] = asyncio.ensure_future(
                self.batch_answer(item, [answers[dep.lower()] for dep in depends], claims, ids))
        responses = list(await asyncio.gather(*answers.values()))
        return Reply({"responses": random.sample(responses, len(responses))})

    async def batch_answer(self, item: dict[str, Any], dependencies: list[asyncio.Task[dict[str, Any]]],
                           claims: dict[str, Any], ids: tuple[str, str]) -> dict[str, Any]:
        """One item, once the items it depends on have been answered."""
        for dependency in dependencies:
            if not 200 <= (await dependency)["status"] < 300:
                return {"id": item["id"], "status": 424, "headers": {"Content-Type": JSON_TYPE},
                        "body": error_reply(GraphError(424, "FailedDependency", "Failed dependency."), *ids).body}
        return await self.batch_item(item, claims, ids)

    async def batch_item(self, item: dict[str, Any], claims: dict[str, Any], ids: tuple[str, str]) -> dict[str, Any]:
        url = urlsplit(item["url"])
        method = item["method"].upper()
        path = "/" + unquote(url.path).lstrip("/")
        headers = item.get("headers")
        call = Call(method, path, MultiDict(parse_qsl(url.query, keep_blank_values=True)),
                    CIMultiDict(headers if isinstance(headers, dict) else {}), claims, item.get("body"))
        try:
            fault = self.cloud.faults.take("graph", method, "/v1.0" + path)
            if fault is not None:
                await fault.delay()
                if fault.status is not None:
                    raise injected_error(fault)
            if url.scheme or url.netloc or path.lower() == "/$batch":
                raise bad_request("Invalid request URL: batch items take URLs relative to the version, like /me.")
            reply = self.dispatch(call)
        except GraphError as error:
            reply = error_reply(error, *ids)
        # json-batching: a body "might be a JSON object or a base64 URL-encoded value, for example, when the body is
        # an image"; Graph sends binary bodies (photos) base64-encoded.
        body = reply.body if isinstance(reply.body, dict) else base64.b64encode(reply.body).decode()
        return {"id": item["id"], "status": reply.status,
                "headers": {"Content-Type": reply.content_type, **reply.headers}, "body": body}


class GraphRequestLog:
    """What the local Graph answered, for tests that count round trips: one entry per HTTP request (a `$batch` is
    one, with its items' statuses). Injected faults are answered before the Graph sees the request and are not
    counted. Bounded, so a long benchmark cannot grow it without end."""

    def __init__(self, cloud: Any, keep: int = 10_000) -> None:
        self._cloud = cloud
        self._entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = itertools.count(1)

    def record(self, claims: dict[str, Any] | None, method: str, path: str, reply: Reply) -> None:
        user = self._cloud.directory.users.get((claims or {}).get("oid"))
        entry: dict[str, Any] = {"seq": next(self._seq), "user": user.username if user else None, "method": method,
                                 "path": path, "status": reply.status}
        if path.lower() == "/v1.0/$batch" and isinstance(reply.body, dict) and "responses" in reply.body:
            entry["items"] = [{"id": item["id"], "status": item["status"]} for item in reply.body["responses"]]
        self._entries.append(entry)

    def after(self, seq: int) -> list[dict[str, Any]]:
        return [entry for entry in self._entries if entry["seq"] > seq]

    def routes(self) -> list[web.RouteDef]:
        """`GET /_localcloud/graph/requests?after=N`: the requests answered since entry N, and the last entry's
        number (start a count from it)."""

        async def list_requests(request: web.Request) -> web.Response:
            try:
                after = int(request.query.get("after", "0"))
            except ValueError:
                return web.json_response({"error": "after must be an integer"}, status=400)
            entries = self.after(after)
            return web.json_response({"requests": entries, "last": entries[-1]["seq"] if entries else after})

        return [web.get("/_localcloud/graph/requests", list_requests)]


def drive_usage(drive: seed.Drive) -> int:
    return sum(item.size for item in drive.items.values() if not item.is_folder)


Located = tuple[seed.Drive, seed.DriveItem]
"""An item and the library it is in."""


def search_index(user: User) -> list[Located]:
    """What a driveItem search of `user` covers (search-api-overview: everything the user can open): their own
    OneDrive, every seeded colleague's `Shared` folder (shared with everyone), and every SharePoint site's library."""
    today = seed.today_for(user)
    own = seed.drive(user, today)
    found: list[Located] = [(own, item) for item in own.items.values()]
    for colleague in seed.USERS:
        if colleague.id == user.id:
            continue
        theirs = seed.drive(colleague, seed.today_for(colleague))
        found += [(theirs, item) for item in theirs.items.values()
                  if f"{item.path}/".startswith(f"{seed.SHARED_FOLDER}/") and item.path]
    for library in seed.site_libraries(datetime.now(UTC).date()):
        found += [(library, item) for item in library.items.values()]
    return found


def relevance_order(items: list[Located], words: list[str]) -> list[Located]:
    """Items whose name holds every word, then those whose keywords do; newest first within each (standing in for
    Graph's relevance ranking, which is undocumented). No words: every item, newest first."""
    by_name = [pair for pair in items if all(word in pair[1].name.lower() for word in words)]
    named = {id(pair[1]) for pair in by_name}
    by_keyword = [pair for pair in items if id(pair[1]) not in named
                  and all(word in f"{pair[1].name} {pair[1].keywords}".lower() for word in words)]
    return [*sorted(by_name, key=lambda pair: pair[1].modified, reverse=True),
            *sorted(by_keyword, key=lambda pair: pair[1].modified, reverse=True)]


SORTABLE: dict[str, Callable[[seed.DriveItem], Any]] = {
    "lastmodifieddatetime": lambda item: item.modified,
    "createddatetime": lambda item: item.created,
    "name": lambda item: item.name.lower(),
    "size": lambda item: item.size,
}
"""driveItem properties `sortProperties` may name (case-insensitive, as search-concept-sort writes both `name` and
`CreatedDateTime`); search-api-overview: a property that is not sortable or does not exist is a 400."""
MAX_SEARCH_SIZE = 500
"""searchRequest: "The maximum value is 500" (search-api-overview says 1000 for SharePoint; the stricter is kept)."""
DEFAULT_SEARCH_SIZE = 25


def search_request(body: Any) -> dict[str, Any]:
    """The one searchRequest of a `/search/query` body, checked and with its defaults; 400 for what Graph refuses."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests or not isinstance(requests[0], dict):
        raise bad_request("The request body must hold a 'requests' collection of searchRequest objects.")
    if len(requests) > 1:
        raise bad_request("Only one searchRequest is supported at a time.")
    request = requests[0]
    types = request.get("entityTypes")
    if not isinstance(types, list) or not types or not all(isinstance(kind, str) for kind in types):
        raise bad_request("entityTypes is required: a collection of entity type names.")
    if {kind.removeprefix("microsoft.graph.") for kind in types} != {"driveItem"}:
        raise bad_request(f"The local Graph searches driveItem only, not {', '.join(types)}.")
    query = request.get("query")
    query_string = query.get("queryString") if isinstance(query, dict) else None
    if not isinstance(query_string, str) or not query_string.strip():
        raise bad_request("query.queryString is required and must not be empty.")
    start, size = request.get("from", 0), request.get("size", DEFAULT_SEARCH_SIZE)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise bad_request("from must be a non-negative integer.")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_SEARCH_SIZE:
        raise bad_request(f"size must be an integer from 1 to {MAX_SEARCH_SIZE}.")
    sort = request.get("sortProperties") or []
    if not isinstance(sort, list) or len(sort) > 5:
        raise bad_request("sortProperties must be a collection of at most 5 sortProperty objects.")
    order: list[tuple[str, bool]] = []
    for item in sort:
        name = item.get("name") if isinstance(item, dict) else None
        descending = item.get("isDescending", False) if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(descending, bool):
            raise bad_request("Each sortProperty needs a string name and a boolean isDescending.")
        if name.lower() not in SORTABLE:
            raise bad_request(f"The property '{name}' is not sortable or does not exist.")
        order.append((name, descending))
    fields = request.get("fields")
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(name, str) for name in fields)):
        raise bad_request("fields must be a collection of strings.")
    return {"query": {"queryString": query_string}, "from": start, "size": size, "sortProperties": order,
            "fields": fields}


_KQL_TOKEN = re.compile(r'\(|\)|(?:[A-Za-z]+(?::|=|<>))?"[^"]*"|[^\s()"]+')
_KQL_RESTRICTION = re.compile(r"([A-Za-z]+)(:|=|<>)(.*)", re.S)


@dataclass(frozen=True)
class KqlQuery:
    """The KQL the local index understands (keyword-query-language-kql-syntax-reference, search-concept-files):
    free-text words and quoted phrases; `AND`, `OR`, `NOT` (upper case, as KQL requires) and parentheses, terms side
    by side meaning AND; and the property restrictions `isDocument=true` (documents: no folders; SharePoint pages
    are documents to the index too, which Learn does not say otherwise), `filetype:`, `author:` (who created it) and
    `ModifiedBy:` (who last changed it, by display name). Any other restriction is free text."""

    tree: Any
    terms: list[str]
    """The free-text terms, lower case: what `searchTerms` echoes and relevance ranks by."""

    @classmethod
    def parse(cls, query: str) -> KqlQuery:
        tokens = _KQL_TOKEN.findall(query)
        terms: list[str] = []

        def disjunction(at: int) -> tuple[Any, int]:
            left, at = conjunction(at)
            while at < len(tokens) and tokens[at] == "OR":
                right, at = conjunction(at + 1)
                left = ("or", left, right)
            return left, at

        def conjunction(at: int) -> tuple[Any, int]:
            left, at = unary(at)
            while at < len(tokens) and tokens[at] not in ("OR", ")"):
                right, at = unary(at + 1 if tokens[at] == "AND" else at)
                left = ("and", left, right)
            return left, at

        def unary(at: int) -> tuple[Any, int]:
            if at >= len(tokens):
                return ("all",), at
            token = tokens[at]
            if token == "NOT":
                inner, at = unary(at + 1)
                return ("not", inner), at
            if token == "(":
                inner, at = disjunction(at + 1)
                return inner, at + 1 if at < len(tokens) and tokens[at] == ")" else at
            return leaf(token), at + 1

        def leaf(token: str) -> Any:
            restriction = _KQL_RESTRICTION.fullmatch(token)
            if restriction and restriction.group(1).lower() in ("isdocument", "filetype", "author", "modifiedby"):
                name, operator, value = restriction.groups()
                return ("property", name.lower(), operator, value.strip('"').lower())
            if token == "*":
                return ("all",)
            text = token.strip('"').lower()
            terms.append(text)
            return ("term", text)

        tree, _ = disjunction(0)
        return cls(tree, terms)

    def matches(self, drive: seed.Drive, item: seed.DriveItem) -> bool:
        return _kql_matches(self.tree, drive, item)


def _kql_matches(node: Any, drive: seed.Drive, item: seed.DriveItem) -> bool:
    kind = node[0]
    if kind == "all":
        return True
    if kind == "and":
        return _kql_matches(node[1], drive, item) and _kql_matches(node[2], drive, item)
    if kind == "or":
        return _kql_matches(node[1], drive, item) or _kql_matches(node[2], drive, item)
    if kind == "not":
        return not _kql_matches(node[1], drive, item)
    if kind == "term":
        return node[1] in f"{item.name} {item.keywords}".lower()
    _, name, operator, value = node
    found = {
        "isdocument": str(not item.is_folder).lower() in (value, {"1": "true", "0": "false"}.get(value)),
        "filetype": not item.is_folder and item.extension == value,
        "author": item.created_by.display_name.lower() == value,
        "modifiedby": item.modified_by.display_name.lower() == value,
    }[name]
    return not found if operator == "<>" else found


def search_summary(item: seed.DriveItem, terms: list[str]) -> str:
    """The hit's summary: the matching text with each term in `<c0>` and `<ddd/>` after, as the search pages show."""
    text = f"{item.name} {item.keywords}".strip()
    for term in terms:
        text = re.sub(f"({re.escape(term)})", r"<c0>\1</c0>", text, flags=re.I)
    return f"{text} <ddd/>"


def search_resource(drive: seed.Drive, item: seed.DriveItem) -> dict[str, Any]:
    """A driveItem as a search hit carries it: the properties of search-concept-sort's recorded example, no more.
    No `file`/`folder` facet and no `parentReference.path`; `webUrl` as the example shows it, not percent-encoded,
    so a name's `#`, `%` or `&` comes raw."""
    site = stable_id(f"site:{drive.site or drive.owner.username}")
    host = "contoso-my.sharepoint.com" if drive.site is None else "contoso.sharepoint.com"
    return {
        "@odata.type": "#microsoft.graph.driveItem",
        "size": item.size,
        "fileSystemInfo": {"createdDateTime": _utc_stamp(item.created),
                           "lastModifiedDateTime": _utc_stamp(item.modified)},
        "id": item.id,
        "createdBy": {"user": {"displayName": item.created_by.display_name}},
        "createdDateTime": item.created.astimezone(UTC).isoformat(timespec="seconds"),
        "lastModifiedBy": {"user": {"displayName": item.modified_by.display_name}},
        "lastModifiedDateTime": item.modified.astimezone(UTC).isoformat(timespec="seconds"),
        "name": item.name,
        "parentReference": {
            "siteId": f"{host},{site},{stable_id(f'web:{drive.site or drive.owner.username}')}",
            "driveId": drive.id,
            "sharepointIds": {"listId": stable_id(f"list:{drive.id}"),
                              "listItemId": str(1 + sorted(drive.items).index(item.id)),
                              "listItemUniqueId": stable_id(f"item:{item.id}").upper()},
        },
        "webUrl": drive.raw_web_url(item),
    }


def trim_fields(resource: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """`fields` keeps only the properties named (search-api-overview: "Invalid fields in the request are silently
    ignored"); without it, the default set."""
    if fields is None:
        return resource
    wanted = {name.lower() for name in fields}
    return {key: value for key, value in resource.items() if key == "@odata.type" or key.lower() in wanted}


def mailbox_refusal(user: User, claims: Mapping[str, Any]) -> GraphError:
    """What Graph answers a good token for a mailbox it cannot reach. Learn documents neither answer; both are
    publicly reported. A tenant without Exchange Online: 401 `OrganizationFromTenantGuidNotFound`, "The tenant for
    tenant guid '…' does not exist." (msgraph-sdk-dotnet issue 1920, azure-docs issue 32957). An inactive,
    unlicensed, soft-deleted or on-premises mailbox: 404 `MailboxNotEnabledForRESTAPI`, "The mailbox is either
    inactive, soft-deleted, or is hosted on-premise." (microsoft/MicrosoftCloud issue 41, msgraph-sdk-javascript issue
    1756). Whether that 401 carries Graph's usual `WWW-Authenticate` is not reported: it does here, the stricter
    reading, so a client that takes any such header for a bad token fails here too."""
    if user.mailbox == "tenant-without-exchange":
        return GraphError(401, "OrganizationFromTenantGuidNotFound",
                          f"The tenant for tenant guid '{claims.get('tid')}' does not exist.",
                          {"WWW-Authenticate": 'Bearer realm="", authorization_uri='
                                               '"https://login.microsoftonline.com/common/oauth2/authorize", '
                                               f'client_id="{GRAPH_APP_ID}"'})
    return GraphError(404, "MailboxNotEnabledForRESTAPI",
                      "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")


def error_reply(error: GraphError, request_id: str | None, client_request_id: str | None) -> Reply:
    request_id = request_id or str(uuid.uuid4())
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
             "client-request-id": client_request_id or request_id}
    return Reply({"error": {"code": error.code, "message": error.message, "innerError": inner}},
                 status=error.status, headers=error.headers)


INJECTED_CODES = {401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied", 404: "itemNotFound",
                  429: "TooManyRequests", 503: "serviceNotAvailable", 504: "gatewayTimeout"}


def injected_error(fault: Fault) -> GraphError:
    assert fault.status is not None
    return GraphError(fault.status, INJECTED_CODES.get(fault.status, "generalException"), fault.message, fault.headers)


def fault_reply(request: web.Request, fault: Fault) -> web.Response:
    ids = request_ids(request)
    return respond(error_reply(injected_error(fault), *ids), *ids)


def request_ids(request: web.Request) -> tuple[str, str]:
    """A new `request-id`, and the client's `client-request-id` (the request id when it sent none)."""
    request_id = str(uuid.uuid4())
    return request_id, request.headers.get("client-request-id") or request_id


def respond(reply: Reply, request_id: str, client_request_id: str) -> web.Response:
    """A reply with the headers Graph puts on every answer."""
    body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
    headers = {"request-id": request_id, "client-request-id": client_request_id,
               "x-ms-ags-diagnostic": '{"ServerInfo":{"DataCenter":"Local","Slice":"E","Ring":"1",'
                                      '"ScaleUnit":"000","RoleInstance":"localcloud"}}',
               "Content-Type": reply.content_type, **reply.headers}
    return web.Response(status=reply.status, body=body, headers=headers)


def create_app(cloud: Any) -> web.Application:
    service = GraphService(cloud)
    authenticate = (f'Bearer realm="", authorization_uri="{cloud.endpoints.login}/common/oauth2/authorize", '
                    f'client_id="{GRAPH_APP_ID}"')

    async def handle(request: web.Request) -> web.Response:
        ids = request_ids(request)
        claims: dict[str, Any] | None = None
        try:
            version, _, path = request.path.lstrip("/").partition("/")
            if version != "v1.0":
                raise bad_request(f"Invalid version: {version}")
            try:
                verified = cloud.issuer.verify_bearer(request.headers.get("Authorization"), AUDIENCES)
            except TokenRejected as rejected:
                raise GraphError(401, "InvalidAuthenticationToken", rejected.reason,
                                 {"WWW-Authenticate": authenticate}) from None
            claims = verified
            body = None
            if request.method == "POST":
                try:
                    body = await request.json()
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise bad_request("Invalid JSON in the request body.") from None
            if path.lower() == "$batch" and request.method == "POST":
                reply = await service.batch(body, verified, ids)
            else:
                reply = service.dispatch(Call(request.method, "/" + path, MultiDict(request.query),
                                              CIMultiDict(request.headers), verified, body))
        except GraphError as error:
            reply = error_reply(error, *ids)
        cloud.graph_requests.record(claims, request.method, request.path, reply)
        return respond(reply, *ids)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
