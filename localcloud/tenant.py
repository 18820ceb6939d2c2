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

from .tokens import entra_issuer

_NAMESPACE = uuid.UUID("6f1c2d7e-4b1a-5c3e-9a8d-0c1e2f3a4b5c")
DOMAIN = "contoso.onmicrosoft.com"

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
BOTFRAMEWORK_RESOURCE = "https://api.botframework.com"
TEAMS_DESKTOP_CLIENT_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
TEAMS_WEB_CLIENT_ID = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
OFFICE_WEB_CLIENT_ID = "4765445b-32c6-49b0-83e6-1d93765276ca"
"""Microsoft 365 on the web, where Microsoft 365 Copilot runs. Which client asks for a custom engine agent's SSO token
in Copilot is not documented; this is the web app's."""
SSO_CLIENTS = {
    TEAMS_DESKTOP_CLIENT_ID: "Teams desktop, mobile",
    TEAMS_WEB_CLIENT_ID: "Teams web",
    OFFICE_WEB_CLIENT_ID: "Microsoft 365 web",
    "0ec893e0-5785-4de6-99da-4ed124e5296c": "Microsoft 365 desktop",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft 365 mobile, Outlook desktop",
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3": "Outlook web",
    "27922004-5251-4030-b22d-91ecd9a37ea4": "Outlook mobile",
}
"""The Microsoft 365 clients an app pre-authorizes for `access_as_user` so that Teams, Microsoft 365 (and its Copilot)
and Outlook sign users in silently: "Extend Teams apps across Microsoft 365", Update Microsoft Entra app registration
for SSO (https://learn.microsoft.com/microsoftteams/platform/m365-apps/extend-m365-teams-personal-tab). docs/deploy.md
step 3 lists the same ids (tests/test_deploy_doc.py holds them together)."""

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
ADMIN_ONLY_GRAPH_SCOPES = frozenset({"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All",
                                     "Calendars.Read", "Calendars.ReadBasic", "MailboxSettings.Read", "User.Read.All",
                                     "User.ReadWrite.All"})
"""What no user may consent to: `User.Read.All`, whose admin consent is always required
(https://learn.microsoft.com/graph/permissions-reference#userreadall); under the Microsoft-managed user consent policy,
the default since 2025, files and sites (Message center MC1097272;
https://learn.microsoft.com/entra/identity/enterprise-apps/configure-user-consent), and from late 2025 Outlook calendar
and mailbox permissions, whose exact list Learn does not give: the safer reading blocks the agent's too. Only an admin's
grant opens them."""


def stable_id(name: str) -> str:
    """A GUID that is the same on every run for the same name."""
    return str(uuid.uuid5(_NAMESPACE, name))


TENANT_ID = stable_id("tenant")
SCRIPTS_CLIENT_ID = stable_id("app:scripts")
"""The public client that scripts and tests sign in with (ROPC, or auth code at `SCRIPTS_REDIRECT_URI`)."""
SCRIPTS_REDIRECT_URI = "http://localhost/auth-test"
UNCONSENTED_CLIENT_ID = stable_id("app:unconsented")
"""A public client no admin granted anything, redirecting to `SCRIPTS_REDIRECT_URI`: what the tenant's consent policy
shows a user of an app like the agent before step 4 of docs/deploy.md."""


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
    admin: bool = False
    """Holds an Entra role that may grant tenant-wide admin consent (Cloud Application Administrator)."""

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
        "Available", "Available", admin=True,
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


@dataclass(frozen=True)
class ManagedIdentity:
    """A user-assigned managed identity: its client id is what a host asks its identity endpoint for tokens with."""

    name: str

    @property
    def client_id(self) -> str:
        return stable_id(f"managed-identity:{self.name}:client")

    @property
    def object_id(self) -> str:
        """Its service principal: the `oid` and `sub` of its tokens, and the subject a federated credential trusts."""
        return stable_id(f"managed-identity:{self.name}:principal")


FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
"""The audience of the managed identity's token an app registration accepts as its credential."""


@dataclass(frozen=True)
class FederatedCredential:
    """Certificates & secrets > Federated credentials: an assertion from `issuer` about `subject` for `audience`."""

    issuer: str
    subject: str
    audience: str = FEDERATION_AUDIENCE


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
    federated_credentials: tuple[FederatedCredential, ...] = ()
    required_graph_scopes: tuple[str, ...] = ()
    """API permissions > Microsoft Graph: the delegated permissions listed, which admin consent grants."""

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
    managed_identity: ManagedIdentity = field(default_factory=lambda: ManagedIdentity("agent-host"))
    """The user-assigned identity attached to the agent's host (`localcloud.identity` hands out its tokens)."""
    _by_name: dict[str, User] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {key: user for user in self.users.values()
                         for key in (user.username, user.user_principal_name.lower(), user.id)}

    @classmethod
    def create(cls, agent_secret: str | None = None, generated: int = 0) -> Directory:
        """The tenant with its seeded users and, for load tests, `generated` more (`generated_users`)."""
        agent_id = stable_id("app:agent")
        host_identity = ManagedIdentity("agent-host")
        agent = App(
            client_id=agent_id,
            display_name="Graph Productivity Agent",
            secret=agent_secret or secrets.token_urlsafe(32),
            identifier_uris=(f"api://botid-{agent_id}", f"api://{agent_id}"),
            pre_authorized_clients=tuple(SSO_CLIENTS),
            required_graph_scopes=("openid", "profile", "offline_access", *AGENT_GRAPH_SCOPES),
            # docs/deploy.md step 2: the registration trusts the host's managed identity, so no secret is needed.
            federated_credentials=(FederatedCredential(entra_issuer(TENANT_ID), host_identity.object_id),),
        )
        copilot_id = stable_id("app:copilot-studio")
        # A Copilot Studio agent's app: a skill consumer (replies to it carry a token for `api://{id}`), and the
        # caller app of a connector token that is not the agent's own.
        copilot = App(client_id=copilot_id, display_name="Copilot Studio agent", identifier_uris=(f"api://{copilot_id}",))
        clients = [App(client_id=client_id, display_name=name) for client_id, name in SSO_CLIENTS.items()]
        scripts = App(
            client_id=SCRIPTS_CLIENT_ID,
            display_name="Local scripts (public client)",
            redirect_uris=[SCRIPTS_REDIRECT_URI],
        )
        unconsented = App(client_id=UNCONSENTED_CLIENT_ID, display_name="Local scripts, no admin consent",
                          redirect_uris=[SCRIPTS_REDIRECT_URI], required_graph_scopes=("User.Read", "Files.Read.All"))
        apps = {app.client_id: app for app in (agent, copilot, *clients, scripts, unconsented)}
        return cls(
            tenant_id=TENANT_ID,
            users={user.id: user for user in (*USERS, *WITHOUT_MAILBOX, *generated_users(generated))},
            agent=agent,
            apps=apps,
            admin_consent={app.client_id: frozenset(AGENT_GRAPH_SCOPES) for app in (agent, scripts)},
            managed_identity=host_identity,
        )

    def user_by_name(self, name: str) -> User | None:
        """Find a user by short name, UPN or object id, case-insensitively."""
        return self._by_name.get(name.strip().lower())

    def granted_graph_scopes(self, user_id: str, client_id: str) -> frozenset[str]:
        return self.admin_consent.get(client_id, frozenset()) | self.user_consent.get((user_id, client_id), set())

    def needs_admin(self, client_id: str, scopes: set[str]) -> set[str]:
        """The `scopes` no user may consent to for `client_id` that no admin granted (`ADMIN_ONLY_GRAPH_SCOPES`)."""
        granted = {scope.lower() for scope in self.admin_consent.get(client_id, frozenset())}
        blocked = {scope.lower() for scope in ADMIN_ONLY_GRAPH_SCOPES}
        return {scope for scope in scopes if scope.lower() in blocked and scope.lower() not in granted}

    def grant_tenant_wide(self, client_id: str) -> frozenset[str]:
        """Admin consent: every Graph permission the app's registration lists, for every user; returns them."""
        app = self.apps[client_id]
        granted = self.admin_consent.get(client_id, frozenset()) | {
            scope for scope in app.required_graph_scopes if scope not in OIDC_SCOPES}
        self.admin_consent[client_id] = frozenset(granted)
        return self.admin_consent[client_id]

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
