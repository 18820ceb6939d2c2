"""The local tenant's directory: its users, its app registrations and what each app was granted.

Deterministic: the same ids, names and passwords on every machine, so docs, tests and demos can name them.
Mailbox and drive content is generated from these users in `seed.py`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

_NAMESPACE = uuid.UUID("6f1c2d7e-4b1a-5c3e-9a8d-0c1e2f3a4b5c")
DOMAIN = "contoso.onmicrosoft.com"

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
BOTFRAMEWORK_RESOURCE = "https://api.botframework.com"
TEAMS_DESKTOP_CLIENT_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
TEAMS_WEB_CLIENT_ID = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
OFFICE_WEB_CLIENT_ID = "4765445b-32c6-49b0-83e6-1d93765276ca"
"""Microsoft 365 on the web, where Microsoft 365 Copilot runs: one of the client ids an app pre-authorizes for SSO
across Microsoft 365 ("Update Azure AD app registration for SSO", extend-m365-teams-personal-tab). Which client
asks for a custom engine agent's SSO token in Copilot is not documented; this is the web app's."""

# The delegated Graph permissions the agent's registration asks for; an admin granted them tenant-wide. The manager's
# is User.Read.All, the least privileged user-list-manager documents (User.ReadBasic.All reads it only by undocumented
# behaviour, and then without a job title: `localcloud/graph.py: manager`).
AGENT_GRAPH_SCOPES = (
    "User.Read",
    "User.Read.All",
    "Presence.Read",
    "MailboxSettings.Read",
    "Calendars.Read",
    "Files.Read.All",
)
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def stable_id(name: str) -> str:
    """A GUID that is the same on every run for the same name."""
    return str(uuid.uuid5(_NAMESPACE, name))


TENANT_ID = stable_id("tenant")
SCRIPTS_CLIENT_ID = stable_id("app:scripts")
"""The public client that scripts and tests sign in with (ROPC, or auth code at `SCRIPTS_REDIRECT_URI`)."""
SCRIPTS_REDIRECT_URI = "http://localhost/auth-test"


MailboxState = Literal["exchange-online", "not-enabled", "tenant-without-exchange"]
"""`exchange-online`: a licensed Exchange Online mailbox. `not-enabled`: an inactive, unlicensed, soft-deleted or
on-premises mailbox, which Graph answers 404 `MailboxNotEnabledForRESTAPI`. `tenant-without-exchange`: the answers of
a tenant without Exchange Online, 401 `OrganizationFromTenantGuidNotFound` (the local cloud has one tenant, so one
user stands in for such a tenant). Sources: `localcloud/graph.py: mailbox_refusal`."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    given_name: str
    surname: str
    job_title: str | None
    department: str | None
    office_location: str | None
    business_phone: str | None
    mobile_phone: str | None
    time_zone: str
    """The mailbox's Windows time zone name, as Graph's mailboxSettings reports it."""
    iana_time_zone: str
    manager: str | None
    has_photo: bool
    availability: str
    activity: str
    calendar_empty: bool = False
    mailbox: MailboxState = "exchange-online"
    """Whether Graph reaches the user's mailbox: see `MailboxState`."""

    @cached_property
    def id(self) -> str:
        return stable_id(f"user:{self.username}")

    @property
    def user_principal_name(self) -> str:
        return f"{self.username}@{DOMAIN}"

    @property
    def mail(self) -> str:
        return self.user_principal_name

    @property
    def password(self) -> str:
        """Local-only demo password, printed by `python -m localcloud users`."""
        return f"{self.given_name}-Local-1!"


USERS: tuple[User, ...] = (
    User(
        "adele", "Adele Vance", "Adele", "Vance", "Retail Manager", "Retail", "18/2111", "+1 425 555 0109",
        None, "Pacific Standard Time", "America/Los_Angeles", "megan", True, "Available", "Available",
    ),
    User(
        "megan", "Megan Bowen", "Megan", "Bowen", "Marketing Manager", "Marketing", "12/1110", "+1 412 555 0109",
        "+1 412 555 0110", "Pacific Standard Time", "America/Los_Angeles", "patti", True, "Busy", "InAMeeting",
    ),
    User(
        "isaiah", "Isaiah Langer", "Isaiah", "Langer", "Sales Rep", "Sales", "20/1101", "+44 20 7946 0123",
        None, "GMT Standard Time", "Europe/London", "megan", False, "Away", "Away",
    ),
    User(
        "lidia", "Lidia Holloway", "Lidia", "Holloway", "Product Manager", "Engineering", "20/2107",
        "+49 30 901820", None, "W. Europe Standard Time", "Europe/Berlin", "patti", True, "DoNotDisturb",
        "Presenting", calendar_empty=True,
    ),
    User(
        "patti", "Patti Fernandez", "Patti", "Fernandez", "President", "Executive Management", "15/1102",
        "+91 80 4567 8900", "+91 98450 12345", "India Standard Time", "Asia/Kolkata", None, True,
        "Available", "Available",
    ),
    User(
        "diego", "Diego Siciliani", "Diego", "Siciliani", "HR Manager", "Human Resources", "14/1108",
        "+81 3 5555 0101", None, "Tokyo Standard Time", "Asia/Tokyo", "patti", True, "BeRightBack", "BeRightBack",
    ),
    User(
        "alex", "Alex Wilber", "Alex", "Wilber", None, None, None, None, None, "Eastern Standard Time",
        "America/New_York", "megan", True, "Offline", "Offline",
    ),
)


WITHOUT_MAILBOX: tuple[User, ...] = (
    User(
        "grady", "Grady Archie", "Grady", "Archie", "Designer", "Research & Development", "19/2109",
        "+1 309 555 0104", None, "Central Standard Time", "America/Chicago", "megan", False, "Available", "Available",
        mailbox="not-enabled",
    ),
    User(
        "nestor", "Nestor Wilke", "Nestor", "Wilke", "Director", "Operations", "36/1121", "+1 404 555 0103", None,
        "Eastern Standard Time", "America/New_York", "patti", False, "Available", "Available",
        mailbox="tenant-without-exchange",
    ),
)
"""Users whose token is fine but whose mailbox Graph cannot reach: their profile and files work, their calendar does
not. Kept out of `USERS`, which seeds everyone's meetings and colleagues (nobody meets someone without a calendar)."""


def generated_users(count: int) -> tuple[User, ...]:
    """`count` more users for load tests (`adele001`, `megan002`, …), each shaped like a seeded user in turn, so their
    photos, managers, presence and calendars vary as the seeded users' do. Their managers are seeded users."""
    return tuple(
        replace(template, username=f"{template.username}{number:03d}",
                display_name=f"{template.display_name} {number:03d}")
        for number, template in ((number, USERS[(number - 1) % len(USERS)]) for number in range(1, count + 1))
    )


@dataclass
class App:
    """An app registration: who may ask for tokens, and for which audiences."""

    client_id: str
    display_name: str
    secret: str | None = None
    identifier_uris: tuple[str, ...] = ()
    redirect_uris: list[str] = field(default_factory=list)
    pre_authorized_clients: tuple[str, ...] = ()
    """Clients that may get a token for this app's `access_as_user` scope without consent (Teams SSO)."""

    def is_audience(self, value: str) -> bool:
        return value == self.client_id or value in self.identifier_uris


@dataclass
class Directory:
    """Users, apps and grants of the one local tenant; created once per run of the cloud."""

    tenant_id: str
    users: dict[str, User]
    agent: App
    apps: dict[str, App]
    admin_consent: dict[str, frozenset[str]]
    """client id -> delegated Graph scopes an admin granted for every user."""
    user_consent: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """(user id, client id) -> delegated Graph scopes the user granted on the sign-in page."""
    _by_name: dict[str, User] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {key: user for user in self.users.values()
                         for key in (user.username, user.user_principal_name.lower(), user.id)}

    @classmethod
    def create(cls, agent_secret: str | None = None, generated: int = 0) -> Directory:
        """The tenant with its seeded users and, for load tests, `generated` more (`generated_users`)."""
        agent_id = stable_id("app:agent")
        agent = App(
            client_id=agent_id,
            display_name="Graph Productivity Agent",
            secret=agent_secret or secrets.token_urlsafe(32),
            identifier_uris=(f"api://botid-{agent_id}", f"api://{agent_id}"),
            pre_authorized_clients=(TEAMS_DESKTOP_CLIENT_ID, TEAMS_WEB_CLIENT_ID, OFFICE_WEB_CLIENT_ID),
        )
        copilot_id = stable_id("app:copilot-studio")
        # A Copilot Studio agent's app: a skill consumer (replies to it carry a token for `api://{id}`), and the
        # caller app of a connector token that is not the agent's own.
        copilot = App(client_id=copilot_id, display_name="Copilot Studio agent", identifier_uris=(f"api://{copilot_id}",))
        teams = App(client_id=TEAMS_DESKTOP_CLIENT_ID, display_name="Microsoft Teams")
        teams_web = App(client_id=TEAMS_WEB_CLIENT_ID, display_name="Microsoft Teams Web Client")
        office_web = App(client_id=OFFICE_WEB_CLIENT_ID, display_name="Microsoft 365 (Office) on the web")
        scripts = App(
            client_id=SCRIPTS_CLIENT_ID,
            display_name="Local scripts (public client)",
            redirect_uris=[SCRIPTS_REDIRECT_URI],
        )
        apps = {app.client_id: app for app in (agent, copilot, teams, teams_web, office_web, scripts)}
        return cls(
            tenant_id=TENANT_ID,
            users={user.id: user for user in (*USERS, *WITHOUT_MAILBOX, *generated_users(generated))},
            agent=agent,
            apps=apps,
            admin_consent={app.client_id: frozenset(AGENT_GRAPH_SCOPES) for app in (agent, scripts)},
        )

    def user_by_name(self, name: str) -> User | None:
        """Find a user by short name, UPN or object id, case-insensitively."""
        return self._by_name.get(name.strip().lower())

    def granted_graph_scopes(self, user_id: str, client_id: str) -> frozenset[str]:
        return self.admin_consent.get(client_id, frozenset()) | self.user_consent.get((user_id, client_id), set())

    def grant(self, user_id: str, client_id: str, scopes: set[str]) -> None:
        self.user_consent.setdefault((user_id, client_id), set()).update(scopes)


def users_as_json() -> list[dict[str, object]]:
    """What `python -m localcloud users --json` prints."""
    return [
        {
            "username": user.user_principal_name,
            "name": user.username,
            "password": user.password,
            "displayName": user.display_name,
            "objectId": user.id,
            "timeZone": user.time_zone,
            "ianaTimeZone": user.iana_time_zone,
            "manager": user.manager,
            "hasPhoto": user.has_photo,
            "emptyCalendar": user.calendar_empty,
            "mailbox": user.mailbox,
        }
        for user in (*USERS, *WITHOUT_MAILBOX)
    ]
