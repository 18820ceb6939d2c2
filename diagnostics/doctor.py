"""`python bot.py doctor`: every misconfiguration that can be found offline, each with its key and its fix.

Most failures reported against agents like this one are configuration, not code, and the SDK reports them late or
never: an `AUTHTYPE` in the wrong case fails on the first token, `AUTO_SIGN_IN=false` silently means true, an OBO
connection name in the wrong case fails on the first Copilot Studio request. The doctor reads the settings exactly as
`bot.py` does (the env file, then the environment on top) and opens no connection. It never prints a secret.
"""

from __future__ import annotations

import base64
import difflib
import inspect
import logging
import re
import ssl
import textwrap
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from dotenv import dotenv_values
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.app.oauth.authorization import AUTHORIZATION_TYPE_MAP
from microsoft_agents.hosting.core.authorization.auth_types import AuthTypes

from auth.cloud import KNOWN_CLOUDS, LOOPBACK_HOSTS, OVERRIDE_KEYS, cloud_from_settings
from auth.incoming import CONNECTOR_CALLERS_KEY, REPLY_HOSTS_KEY, SKILL_CALLERS_KEY, TENANTS_KEY, setting_list
from hosting.settings import DEFAULT_PORT, DRAIN_KEY, PORT_KEY, TURN_DEADLINE_KEY, drain_seconds, port, turn_seconds
from skills.commands import CONNECTOR_HANDLER, TEAMS_HANDLER
from state import CONTAINER_NAME, CONTAINER_NAME_RULE, DEFAULT_CONTAINER

CONNECTIONS = "CONNECTIONS__"
SERVICE_CONNECTION = "SERVICE_CONNECTION"
USER_AUTHORIZATION = "AGENTAPPLICATION__USERAUTHORIZATION__"
HANDLERS = f"{USER_AUTHORIZATION}HANDLERS__"
AUTO_SIGN_IN = f"{USER_AUTHORIZATION}AUTO_SIGN_IN"
STORAGE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
STORAGE_ACCOUNT_URL = "AZURE_STORAGE_ACCOUNT_URL"
STORAGE_CONTAINER = "AZURE_STORAGE_CONTAINER"

AUTH_TYPES = [auth_type.value for auth_type in AuthTypes]
HANDLER_TYPES = {name.lower(): name for name in ("UserAuthorization", "ConnectorUserAuthorization")
                 if name.lower() in AUTHORIZATION_TYPE_MAP}  # the two auth/sign_in.py signs users in with
HANDLER_SETTINGS = ["TITLE", "TEXT", "AZUREBOTOAUTHCONNECTIONNAME", "OBOCONNECTIONNAME", "SCOPES", "ALT_BLUEPRINT_NAME"]


def sdk_reads(key: str) -> bool:
    """Whether a connection's `SETTINGS__{key}` is read by the SDK: a value there changes the `AgentAuthConfiguration`
    it builds (the SDK names its keys only in a private table, so its own constructor is asked)."""
    setting: dict[str, Any] = {key: "true"}  # as `load_configuration_from_env` passes it: text
    return _settings_of(AgentAuthConfiguration(**setting)) != _DEFAULT_CONNECTION


def _settings_of(connection: AgentAuthConfiguration) -> dict[str, object]:
    """What a connection's configuration holds: its upper-case fields (`CLIENT_ID`, `ISSUERS`...)."""
    return {name: getattr(connection, name) for name in dir(connection) if name.isupper()}


_DEFAULT_CONNECTION = _settings_of(AgentAuthConfiguration())
CONNECTION_KEYS = sorted({key for parameter in inspect.signature(AgentAuthConfiguration).parameters
                         for key in (parameter.upper().replace("_", ""), parameter.upper()) if sdk_reads(key)})
"""The keys of a connection's settings the SDK reads, spelt as its `AgentAuthConfiguration`'s parameters are named:
what a misspelt key is compared with."""
# The agent's routes name these handlers (skills/commands.py); each must exist, with this type.
REQUIRED_HANDLERS = {TEAMS_HANDLER: "UserAuthorization", CONNECTOR_HANDLER: "ConnectorUserAuthorization"}
# Copilot Studio only (docs/deploy.md): the connector needs no Azure Bot, so the Teams handler may be left out.
OPTIONAL_HANDLERS = {TEAMS_HANDLER}
HANDLER_PURPOSE = {TEAMS_HANDLER: "Teams users sign in through it", CONNECTOR_HANDLER: "Copilot Studio's requests get "
                   "their Graph token through it"}
# Auth types SDK 1.9's MSAL connection names but does not build: it raises NotImplementedError on the first token.
UNBUILT_AUTH_TYPES = {"CertificateSubjectName", "EntraAuthSideCar"}
# Auth types whose connection is a managed identity itself: the SDK refuses on-behalf-of with them.
NO_OBO_AUTH_TYPES = {"UserManagedIdentity", "SystemManagedIdentity", "IdentityProxyManager"}
# Auth types that get the agent's own token from Entra with a credential, so need a tenant to ask.
TENANTED_AUTH_TYPES = {"ClientSecret", "certificate", "CertificateSubjectName", "FederatedCredentials",
                       "WorkloadIdentity"}

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NIL_GUID = "00000000-0000-0000-0000-000000000000"
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
# Which cloud a host belongs to, by domain: an endpoint of one cloud used with another is a mix-up.
CLOUD_DOMAINS = {
    "public": ("microsoftonline.com", "microsoft.com", "botframework.com", "windows.net"),
    "usgov": ("microsoftonline.us", "microsoft.us", "azure.us", "usgovcloudapi.net"),
    "china": ("microsoftonline.cn", "chinacloudapi.cn", "azure.cn"),
}
TOKEN_SERVICE_REDIRECT_HOSTS = {"api.botframework.com": "token.botframework.com",
                                "tokengcch.botframework.azure.us": "token.botframework.azure.us",
                                "apidod.botframework.azure.us": "token.botframework.azure.us"}
"""The SDK's default token service hosts, and where Bot Service's OAuth redirect URI is for them; a regional token
service (europe., india., unitedstates.token.botframework.com) redirects to itself
(https://learn.microsoft.com/azure/bot-service/ref-oauth-redirect-urls)."""
SECRET_KEY = re.compile(r"SECRET|PASSWORD|CONNECTION_STRING|IDENTITY_HEADER|(^|_)KEY$|(^|_)TOKEN$", re.IGNORECASE)
TRUE_WORDS = {"1", "true", "t", "yes", "y"}


DEPLOY_DOC = "docs/deploy.md"


@dataclass(frozen=True)
class Step:
    """One step of docs/deploy.md: its heading's anchor, and the keys whose findings belong to it (none: the step
    happens in the Azure portal or the Entra admin center only, where the doctor cannot look)."""

    title: str
    anchor: str
    keys: tuple[str, ...] = ()


_SERVICE = f"{CONNECTIONS}{SERVICE_CONNECTION}__SETTINGS__"
CHECKLIST = (
    Step("Register the app in Entra ID (single tenant, redirect URI, v2 tokens, home page URL)",
         "1-register-the-app-in-entra-id",
         (f"{_SERVICE}CLIENTID", f"{_SERVICE}TENANTID", f"{CONNECTIONS}{SERVICE_CONNECTION}")),
    Step("Give the agent a credential: managed identity through FederatedCredentials",
         "2-give-the-agent-a-credential-managed-identity-first",
         tuple(f"{_SERVICE}{key}" for key in ("AUTHTYPE", "CLIENTSECRET", "CERTPFXFILE", "FEDERATEDCLIENTID",
                                              "FEDERATEDTOKENFILE", "AUTHORITY"))),
    Step("Expose api://botid-{CLIENTID} with access_as_user, pre-authorize the Microsoft 365 clients",
         "3-expose-an-api-for-sso-in-teams-microsoft-365-and-outlook"),
    Step("Graph delegated permissions and admin consent", "4-graph-permissions-and-admin-consent"),
    Step("The Azure Bot resource and its messaging endpoint", "5-the-azure-bot-resource"),
    Step("The OAuth connection with a federated credential (name, scopes, token exchange URL)",
         "6-the-oauth-connection-with-a-federated-credential",
         (f"{HANDLERS}{TEAMS_HANDLER}__", AUTO_SIGN_IN, "TOKEN_SERVICE_ENDPOINT")),
    Step("The channels and the app package (make package)", "7-the-channels-and-the-app-package"),
    Step("Copilot Studio: skill and connected agent (on-behalf-of)", "8-copilot-studio",
         (f"{HANDLERS}{CONNECTOR_HANDLER}__", "SKILL_ENDPOINT_URL", SKILL_CALLERS_KEY, CONNECTOR_CALLERS_KEY,
          TENANTS_KEY, REPLY_HOSTS_KEY)),
    Step("Hosting: the container, replicas, health probes, shared state without a key", "9-hosting",
         ("STORAGE", STORAGE_ACCOUNT_URL, "AZURE_CLIENT_ID", STORAGE_CONNECTION_STRING, STORAGE_CONTAINER, PORT_KEY,
          DRAIN_KEY, "LOG_LEVEL")),
)


@dataclass(frozen=True)
class Finding:
    key: str
    problem: str
    fix: str


@dataclass
class Handler:
    type: str | None = None
    settings: dict[str, str] = field(default_factory=dict)


def effective_settings(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """What `bot.main` ends up with: `load_dotenv` never overrides a variable already in the environment."""
    if environ.get("PYTHON_DOTENV_DISABLED", "").casefold() in TRUE_WORDS or not env_file.is_file():
        return dict(environ)
    from_file = {key: value for key, value in dotenv_values(env_file).items() if value is not None}
    return {**from_file, **environ}


def connections(settings: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """`CONNECTIONS__<NAME>__SETTINGS__<KEY>` by name, split as `load_configuration_from_env` splits them."""
    found: dict[str, dict[str, str]] = {}
    for key, value in settings.items():
        parts = key.split("__")
        if len(parts) == 4 and parts[0] == "CONNECTIONS" and parts[2] == "SETTINGS":
            found.setdefault(parts[1], {})[parts[3]] = value
    return found


def handlers(settings: Mapping[str, str]) -> dict[str, Handler]:
    """`…HANDLERS__<ID>__TYPE` and `…HANDLERS__<ID>__SETTINGS__<KEY>` by handler id."""
    found: dict[str, Handler] = {}
    for key, value in settings.items():
        if not key.startswith(HANDLERS):
            continue
        parts = key[len(HANDLERS):].split("__")
        if len(parts) == 2 and parts[1] == "TYPE":
            found.setdefault(parts[0], Handler()).type = value
        elif len(parts) == 3 and parts[1] == "SETTINGS":
            found.setdefault(parts[0], Handler()).settings[parts[2]] = value
    return found


def _spelling(value: str, choices: Iterable[str]) -> str | None:
    """The choice `value` was meant to be: the same but for case and separators, else the closest."""
    choices = list(choices)
    squashed = {re.sub(r"[\s_-]", "", choice).lower(): choice for choice in choices}
    exact = squashed.get(re.sub(r"[\s_-]", "", value).lower())
    if exact:
        return exact
    close = difflib.get_close_matches(value.lower(), [choice.lower() for choice in choices], n=1, cutoff=0.6)
    return next((choice for choice in choices if close and choice.lower() == close[0]), None)


def _cloud_family(host: str) -> str | None:
    return next((name for name, domains in CLOUD_DOMAINS.items()
                 if any(host == domain or host.endswith(f".{domain}") for domain in domains)), None)


class Doctor:
    """Runs every check over one set of settings and collects the findings."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self.settings = settings
        self.findings: list[Finding] = []
        self.warnings: list[Finding] = []
        """What works but will fail in production (the exit status stays 0)."""
        self.connections = connections(settings)
        self.handlers = handlers(settings)
        self.cloud_name = (settings.get("AGENT_CLOUD") or "public").strip().lower()

    def add(self, key: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(key, problem, fix))

    def warn(self, key: str, problem: str, fix: str) -> None:
        self.warnings.append(Finding(key, problem, fix))

    def value(self, key: str) -> str:
        return self.settings.get(key, "").strip()

    def run(self) -> list[Finding]:
        self.check_key_case()
        self.check_connections()
        self.check_handlers()
        self.check_cloud()
        self.check_storage()
        self.check_hosting()
        self.check_callers()
        return self.findings

    # ── The SDK's own keys ───────────────────────────────────────────────────────────────────────────────────────────

    def check_key_case(self) -> None:
        for key in self.settings:
            head = key.split("__")[0]
            if head != head.upper() and head.upper() in ("CONNECTIONS", "AGENTAPPLICATION", "CONNECTIONSMAP"):
                self.add(key, "ignored: the SDK's keys are case-sensitive",
                         f"write it as {head.upper()}{key[len(head):]}")

    def check_connections(self) -> None:
        if SERVICE_CONNECTION not in self.connections:
            near = next((name for name in self.connections if name.upper() == SERVICE_CONNECTION), None)
            if near:
                self.add(f"{CONNECTIONS}{near}__SETTINGS__CLIENTID",
                         f"the connection is named {near}; the SDK needs {SERVICE_CONNECTION} (case-sensitive)",
                         f"rename its keys to {CONNECTIONS}{SERVICE_CONNECTION}__SETTINGS__…")
            else:
                self.add(f"{CONNECTIONS}{SERVICE_CONNECTION}__SETTINGS__CLIENTID",
                         "no SERVICE_CONNECTION: the agent cannot start",
                         "set its CLIENTID, TENANTID, AUTHTYPE and credential (see .env.example)")
        for name, settings in self.connections.items():
            self.check_connection(f"{CONNECTIONS}{name}__SETTINGS__", settings)

    def check_connection(self, prefix: str, settings: Mapping[str, str]) -> None:
        auth_type = settings.get("AUTHTYPE", "ClientSecret")  # the SDK's default when the key is absent
        if auth_type not in AUTH_TYPES:
            meant = _spelling(auth_type, AUTH_TYPES)
            self.add(f"{prefix}AUTHTYPE",
                     f"{auth_type!r} is not an auth type (exact and case-sensitive)" if auth_type else "empty",
                     f"use {meant}" if meant else f"use one of: {', '.join(AUTH_TYPES)}")
            auth_type = meant or auth_type
        if auth_type in UNBUILT_AUTH_TYPES:
            self.add(f"{prefix}AUTHTYPE", f"{auth_type}: SDK 1.9 raises NotImplementedError on the first token",
                     "use FederatedCredentials on Azure, or certificate (an unencrypted PFX file)")
        client_id = settings.get("CLIENTID", "").strip()
        if not client_id:
            self.add(f"{prefix}CLIENTID", "not set", "the Application (client) ID of the agent's app registration")
        else:
            self.check_guid(f"{prefix}CLIENTID", client_id, "the Application (client) ID of the app registration")
        tenant = settings.get("TENANTID", "").strip()
        authority = (settings.get("AUTHORITY") or settings.get("AUTHORITYENDPOINT") or "").strip()
        if tenant:
            self.check_tenant(f"{prefix}TENANTID", tenant)
        elif auth_type in TENANTED_AUTH_TYPES and not authority:
            self.add(f"{prefix}TENANTID", f"not set: {auth_type} needs the tenant to ask for tokens",
                     "the Directory (tenant) ID of the app registration")
        if authority:
            key = f"{prefix}AUTHORITY" if settings.get("AUTHORITY") else f"{prefix}AUTHORITYENDPOINT"
            self.check_endpoint(key, authority, "login_endpoint")
        required = {"ClientSecret": ("CLIENTSECRET", "the app registration's client secret (its value, not its id)"),
                    "certificate": ("CERTPFXFILE", "the path of the certificate's PFX file"),
                    "FederatedCredentials": ("FEDERATEDCLIENTID", "the managed identity's client ID"),
                    "WorkloadIdentity": ("FEDERATEDTOKENFILE", "the path of the projected service account token")}
        if auth_type in required:
            key, what = required[auth_type]
            if not settings.get(key, "").strip():
                self.add(f"{prefix}{key}", f"not set: AUTHTYPE={auth_type} needs it", f"set it to {what}")
            elif key.endswith("FILE") and not Path(settings[key].strip()).is_file():
                self.add(f"{prefix}{key}", f"{settings[key].strip()} does not exist", f"set it to {what}")
            elif key == "FEDERATEDCLIENTID":
                self.check_guid(f"{prefix}{key}", settings[key].strip(), what)
        if auth_type != "ClientSecret" and settings.get("CLIENTSECRET", "").strip():
            self.add(f"{prefix}CLIENTSECRET", f"a secret left in .env that AUTHTYPE={auth_type} never uses",
                     "delete it here, and the secret itself in the app registration (Certificates & secrets)")
        elif auth_type == "ClientSecret" and self.cloud_name != "local":
            self.warn(f"{prefix}AUTHTYPE", "ClientSecret: a secret to store and rotate, fine for a dev tunnel",
                      "on Azure use FederatedCredentials with the host's managed identity (docs/deploy.md step 2)")
        self.check_unknown_keys(prefix, [key for key in settings if not sdk_reads(key)], CONNECTION_KEYS)

    def check_guid(self, key: str, value: str, what: str) -> None:
        if value == NIL_GUID:
            self.add(key, "still the placeholder 00000000-…", f"set it to {what}")
        elif not GUID.match(value):
            # The value is not echoed: a secret pasted into the wrong key is a common mistake.
            self.add(key, "not a GUID", f"set it to {what} (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")

    def check_tenant(self, key: str, value: str) -> None:
        what = "the Directory (tenant) ID, or the tenant's domain (contoso.onmicrosoft.com)"
        if value.lower() in ("organizations", "consumers"):
            self.add(key, f"{value!r} names no tenant: the agent's own tokens need one", f"set it to {what}")
        elif value.lower() != "common" and not DOMAIN.match(value):
            self.check_guid(key, value, what)

    def check_unknown_keys(self, prefix: str, settings: Iterable[str], known: list[str]) -> None:
        """A key the SDK does not read but one it does was meant (`CLIENT_ID`, `clientid`) is silently ignored."""
        for key in settings:
            if key in known:
                continue
            meant = difflib.get_close_matches(key.upper().replace("_", ""), known, n=1, cutoff=0.8)
            if meant:
                self.add(f"{prefix}{key}", "not a key the SDK reads: ignored", f"rename it to {prefix}{meant[0]}")

    # ── User authorization handlers ──────────────────────────────────────────────────────────────────────────────────

    def check_handlers(self) -> None:
        auto_sign_in = self.settings.get(AUTO_SIGN_IN)
        if auto_sign_in and auto_sign_in.strip().lower() in ("false", "0", "no", "off"):
            self.add(AUTO_SIGN_IN, f"{auto_sign_in.strip()!r} is read as true (SDK 1.9.0 takes any non-empty text)",
                     "remove the key: auto sign-in is off without it")
        for handler_id, expected in REQUIRED_HANDLERS.items():
            if handler_id in self.handlers:
                continue
            near = next((name for name in self.handlers if name.upper() == handler_id.upper()), None)
            if not near and handler_id in OPTIONAL_HANDLERS and CONNECTOR_HANDLER in self.handlers:
                continue  # Copilot Studio only: no Azure Bot, no Teams sign-in
            if near:
                self.add(f"{HANDLERS}{near}__TYPE", f"the agent's routes use handler {handler_id} (case-sensitive)",
                         f"rename the keys to {HANDLERS}{handler_id}__…")
            else:
                need = ("SETTINGS__AZUREBOTOAUTHCONNECTIONNAME" if expected == "UserAuthorization"
                        else "SETTINGS__OBOCONNECTIONNAME and SETTINGS__SCOPES")
                self.add(f"{HANDLERS}{handler_id}__TYPE", f"not set: {HANDLER_PURPOSE[handler_id]}",
                         f"set it to {expected}, with {need}")
        for handler_id, handler in self.handlers.items():
            self.check_handler(handler_id, handler)

    def check_handler(self, handler_id: str, handler: Handler) -> None:
        prefix = f"{HANDLERS}{handler_id}__"
        raw_type = (handler.type or "UserAuthorization").strip()  # the SDK's default when TYPE is absent
        handler_type = HANDLER_TYPES.get(raw_type.lower())
        if handler_type is None:
            meant = _spelling(raw_type, HANDLER_TYPES.values())
            self.add(f"{prefix}TYPE", f"{raw_type!r} is not a handler type: the agent cannot start",
                     f"use {meant}" if meant else f"use one of: {', '.join(HANDLER_TYPES.values())}")
            handler_type = meant
        expected = REQUIRED_HANDLERS.get(handler_id)
        if handler_type and expected and handler_type != expected:
            self.add(f"{prefix}TYPE", f"{handler_type}, but the agent uses {handler_id} as {expected}",
                     f"set it to {expected}")
            handler_type = expected  # what the fix makes it: its settings are checked for that
        settings = handler.settings
        setting = f"{prefix}SETTINGS__"
        if handler_type == "UserAuthorization" and not settings.get("AZUREBOTOAUTHCONNECTIONNAME", "").strip():
            self.add(f"{setting}AZUREBOTOAUTHCONNECTIONNAME", "not set: Teams sign-in needs the Azure Bot's OAuth "
                     "connection", "set it to the OAuth connection's name (Azure Bot > Configuration)")
        if handler_type == "ConnectorUserAuthorization":
            if not settings.get("OBOCONNECTIONNAME", "").strip():
                self.add(f"{setting}OBOCONNECTIONNAME", "not set: Copilot Studio's token is then used as is, "
                         "and Graph rejects it", f"set it to {SERVICE_CONNECTION} (a CONNECTIONS__<NAME> key)")
            if not settings.get("SCOPES", "").strip():
                self.add(f"{setting}SCOPES", "not set: no on-behalf-of exchange happens without scopes",
                         "set it to the Graph scopes, e.g. https://graph.microsoft.com/.default")
        obo = settings.get("OBOCONNECTIONNAME", "").strip()
        obo_type = self.connections.get(obo, {}).get("AUTHTYPE", "").strip()
        if handler_type == "ConnectorUserAuthorization" and obo_type in NO_OBO_AUTH_TYPES:
            self.add(f"{CONNECTIONS}{obo}__SETTINGS__AUTHTYPE", f"{obo_type} cannot do on-behalf-of (the SDK "
                     "refuses it), so Copilot Studio's users never reach Graph",
                     "use FederatedCredentials with the managed identity's client id as FEDERATEDCLIENTID")
        if obo and obo not in self.connections:
            near = next((name for name in self.connections if name.upper() == obo.upper()), None)
            self.add(f"{setting}OBOCONNECTIONNAME", f"no connection is named {obo!r} (case-sensitive)",
                     f"use {near}" if near else f"use one of: {', '.join(self.connections) or SERVICE_CONNECTION}")
        if "," in settings.get("SCOPES", ""):
            self.add(f"{setting}SCOPES", "the SDK splits scopes on spaces only: commas end up inside a scope",
                     "separate the scopes with spaces")
        self.check_unknown_keys(setting, settings, HANDLER_SETTINGS)

    # ── The cloud and its endpoints ──────────────────────────────────────────────────────────────────────────────────

    def check_cloud(self) -> None:
        names = [*KNOWN_CLOUDS, "local"]
        if self.cloud_name not in names:
            meant = _spelling(self.cloud_name, names)
            self.add("AGENT_CLOUD", f"{self.cloud_name!r} is not a cloud",
                     f"use {meant}" if meant else f"use one of: {', '.join(names)}")
        for key, cloud_field in OVERRIDE_KEYS.items():
            value = self.value(key)
            if key == "EXTRA_CA_FILE":
                if value:
                    self.check_ca_file(value)
            elif value:
                self.check_endpoint(key, value, cloud_field)
            elif self.cloud_name == "local":
                self.add(key, "AGENT_CLOUD=local has no built-in endpoints",
                         "start the local cloud with `python -m localcloud --env-file PATH` and use PATH")

    def check_endpoint(self, key: str, url: str, cloud_field: str) -> None:
        cloud = KNOWN_CLOUDS.get(self.cloud_name)
        default = f" ({getattr(cloud, cloud_field)})" if cloud else ""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            self.add(key, f"{url!r} is not an absolute http(s) URL", f"write the whole URL{default}")
            return
        loopback = host in LOOPBACK_HOSTS
        if parts.scheme == "http" and not loopback:
            self.add(key, f"plain http to {host}: allowed only on loopback", f"use https://{parts.netloc}")
        if self.cloud_name == "local":
            if not loopback:
                self.add(key, f"AGENT_CLOUD=local, but {host} is not loopback",
                         "use the endpoints the local cloud wrote, or set AGENT_CLOUD to this host's cloud")
        elif cloud and loopback:
            self.add(key, f"points at loopback while AGENT_CLOUD={self.cloud_name}",
                     f"set AGENT_CLOUD=local for a local cloud, or empty it for {self.cloud_name}'s own{default}")
        elif cloud:
            owner = _cloud_family(host)
            if owner and owner != _cloud_family(urlsplit(getattr(cloud, cloud_field)).hostname or ""):
                self.add(key, f"{host} is in the {owner} cloud, but AGENT_CLOUD={self.cloud_name}",
                         f"empty it for {self.cloud_name}'s own{default}, or set AGENT_CLOUD={owner}")

    def check_ca_file(self, value: str) -> None:
        path = Path(value)
        if not path.is_file():
            self.add("EXTRA_CA_FILE", f"{value} does not exist", "set it to a PEM file of CA certificates, or empty it")
            return
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(path))
        except (ssl.SSLError, ValueError, OSError):
            self.add("EXTRA_CA_FILE", f"{value} is not a PEM file of CA certificates",
                     "convert it: openssl x509 -inform der -in CA.cer -out ca.pem")

    # ── State storage ────────────────────────────────────────────────────────────────────────────────────────────────

    def check_storage(self) -> None:
        kind = self.value("STORAGE").lower() or "memory"
        if kind not in ("memory", "blob"):
            self.add("STORAGE", f"{self.value('STORAGE')!r} is not a storage", "use memory or blob")
            return
        if kind != "blob":
            if self.cloud_name != "local":
                self.warn("STORAGE", "memory: sign-ins are lost on every restart and scale-to-zero, and split between "
                          "replicas (Container Apps runs 0-10 by default)",
                          f"STORAGE=blob with {STORAGE_ACCOUNT_URL} (docs/deploy.md step 9)")
            return
        account_url = self.value(STORAGE_ACCOUNT_URL)
        connection_string = self.value(STORAGE_CONNECTION_STRING)
        if account_url and connection_string:
            self.add(STORAGE_CONNECTION_STRING, f"set together with {STORAGE_ACCOUNT_URL}: the agent takes only one",
                     f"empty it: {STORAGE_ACCOUNT_URL} needs no key")
        elif account_url:
            self.check_storage_account_url(account_url)
        elif connection_string:
            self.check_storage_connection_string(connection_string)
        else:
            self.add(STORAGE_ACCOUNT_URL, "not set: STORAGE=blob needs it (or a connection string)",
                     "the account's blob endpoint, https://ACCOUNT.blob.core.windows.net, reached through Entra ID "
                     "with no key")
        container = self.value(STORAGE_CONTAINER) or DEFAULT_CONTAINER
        if not CONTAINER_NAME.match(container):
            self.add(STORAGE_CONTAINER, f"{container!r} is not a container name", CONTAINER_NAME_RULE)

    def check_storage_account_url(self, value: str) -> None:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            self.add(STORAGE_ACCOUNT_URL, f"{value!r} is not an absolute URL",
                     "write https://ACCOUNT.blob.core.windows.net")
        elif parts.scheme == "http":
            self.add(STORAGE_ACCOUNT_URL, "plain http: Entra ID tokens are sent over https only (Azurite too)",
                     f"use https://{parts.netloc}{parts.path}")
        elif ".blob." not in host and host not in LOOPBACK_HOSTS:
            self.add(STORAGE_ACCOUNT_URL, f"{host} is not a blob endpoint",
                     "the account's Blob service endpoint (Endpoints > Blob service), ACCOUNT.blob.core.windows.net")
        client_id = self.value("AZURE_CLIENT_ID")
        if client_id:
            self.check_guid("AZURE_CLIENT_ID", client_id, "the user-assigned managed identity's Client ID")

    def check_storage_connection_string(self, value: str) -> None:
        pairs = [part.split("=", 1) for part in value.split(";") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            self.add(STORAGE_CONNECTION_STRING, "malformed: expected Key=Value pairs separated by ;",
                     "copy it again from the storage account (Access keys)")
            return
        parts = {key.strip().lower(): item.strip() for key, item in pairs}
        if parts.get("usedevelopmentstorage", "").lower() == "true":
            return
        has_account = "accountname" in parts and ("accountkey" in parts or "sharedaccesssignature" in parts)
        if not has_account and not ("blobendpoint" in parts and "sharedaccesssignature" in parts):
            self.add(STORAGE_CONNECTION_STRING, "incomplete: needs AccountName and AccountKey (or a "
                     "SharedAccessSignature)", "copy it again from the storage account (Access keys)")
        endpoint = urlsplit(parts.get("blobendpoint", ""))
        if endpoint.scheme == "http" and endpoint.hostname not in LOOPBACK_HOSTS:
            self.add(STORAGE_CONNECTION_STRING, f"its BlobEndpoint uses plain http to {endpoint.hostname}",
                     "use https (plain http only for Azurite on loopback)")

    # ── Hosting ──────────────────────────────────────────────────────────────────────────────────────────────────────

    def check_hosting(self) -> None:
        try:
            port(self.settings)
        except ValueError as error:
            self.add(PORT_KEY, str(error), f"a number from 1 to 65535 (default {DEFAULT_PORT})")
        try:
            drain_seconds(self.settings)
        except ValueError as error:
            self.add(DRAIN_KEY, str(error), "seconds, within the platform's grace period (Kubernetes: 30 s in all)")
        level = self.value("LOG_LEVEL")
        levels = list(logging.getLevelNamesMapping())
        if level and level not in levels:
            self.add("LOG_LEVEL", f"{level!r} is not a level: the agent fails at start (names are case-sensitive)",
                     f"use one of: {', '.join(levels)}")
        skill_url = self.value("SKILL_ENDPOINT_URL")
        if skill_url:
            parts = urlsplit(skill_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                self.add("SKILL_ENDPOINT_URL", f"{skill_url!r} is not an absolute URL",
                         "the URL Copilot Studio reaches, e.g. https://agent.contoso.com/api/messages")
            elif parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
                self.add("SKILL_ENDPOINT_URL", "plain http off loopback: Copilot Studio calls https only",
                         f"use https://{parts.netloc}{parts.path}")


    # ── Who may call (auth/incoming.py) ──────────────────────────────────────────────────────────────────────────────

    def check_callers(self) -> None:
        for key, what in ((TENANTS_KEY, "a tenant id"), (CONNECTOR_CALLERS_KEY, "an app (client) id"),
                          (SKILL_CALLERS_KEY, "a Copilot Studio agent's app id")):
            for item in sorted(setting_list(self.settings, key)):
                if not GUID.fullmatch(item):
                    self.add(key, f"{item!r} is not a GUID: no token will ever match it",
                             f"list {what} per entry, comma-separated")
        for host in sorted(setting_list(self.settings, REPLY_HOSTS_KEY)):
            if "/" in host or not urlsplit(f"//{host}").hostname:
                self.add(REPLY_HOSTS_KEY, f"{host!r} is not a host name: entries are compared with the serviceUrl's "
                         "host (and port)", "write host or host:port, e.g. copilot.contoso.example, not a URL")
        try:
            turn_seconds(self.settings)
        except ValueError as error:
            self.add(TURN_DEADLINE_KEY, str(error), "seconds for a whole turn, below the 15 s Bot Service waits")
        personal = self.value("LOG_PERSONAL_DATA")
        if personal and personal.lower() not in ("true", "false"):
            self.add("LOG_PERSONAL_DATA", f"{personal!r} is read as false: only true keeps personal data in the logs",
                     "write true or false")


def diagnose(settings: Mapping[str, str]) -> list[Finding]:
    return Doctor(settings).run()


def summary(settings: Mapping[str, str]) -> list[str]:
    """The effective cloud, handlers and storage, for a configuration without findings."""
    cloud = cloud_from_settings(settings)
    lines = [f"Cloud: {cloud.name} (Graph {cloud.graph_endpoint}, sign-in {cloud.login_endpoint}, "
             f"token service {cloud.token_service_endpoint})"]
    described = []
    found = handlers(settings)
    for handler_id, handler in found.items():
        handler_type = HANDLER_TYPES[(handler.type or "UserAuthorization").strip().lower()]
        via = (f"OAuth connection {handler.settings['AZUREBOTOAUTHCONNECTIONNAME']}"
               if handler.settings.get("AZUREBOTOAUTHCONNECTIONNAME") else "")
        if handler.settings.get("OBOCONNECTIONNAME"):
            via = ", ".join(filter(None, [via, f"on-behalf-of through {handler.settings['OBOCONNECTIONNAME']}"]))
        described.append(f"{handler_id} ({handler_type}{', ' + via if via else ''})")
    lines.append(f"Handlers: {', '.join(described) or 'none'}")
    if TEAMS_HANDLER not in found:
        lines.append("Route: Copilot Studio only (no Azure Bot, no Teams): docs/deploy.md#copilot-studio-only")
    storage = (settings.get("STORAGE") or "memory").strip().lower()
    if storage == "blob" and settings.get(STORAGE_ACCOUNT_URL, "").strip():
        storage = f"blob through Entra ID at {settings[STORAGE_ACCOUNT_URL].strip()} (no key)"
    lines.append(f"Storage: {storage}")
    return lines


def hints(settings: Mapping[str, str]) -> list[str]:
    """What the doctor cannot check but the portal must match: each is a value to paste, computed from .env."""
    return [hint for hint in (sso_hint(settings), consent_hint(settings), redirect_hint(settings),
                              federation_hint(settings), skill_hint(settings)) if hint]


def _service(settings: Mapping[str, str], key: str) -> str:
    return settings.get(f"{CONNECTIONS}{SERVICE_CONNECTION}__SETTINGS__{key}", "").strip()


def _valid_id(value: str) -> bool:
    return bool(GUID.match(value)) and value != NIL_GUID


def sso_hint(settings: Mapping[str, str]) -> str | None:
    """Teams SSO fails silently without the token exchange URL; the doctor cannot see the Azure Bot, so it says it."""
    client_id = _service(settings, "CLIENTID")
    oauth = [handler.settings.get("AZUREBOTOAUTHCONNECTIONNAME", "") for handler in handlers(settings).values()
             if (handler.type or "UserAuthorization").strip().lower() == "userauthorization"]
    if not client_id or not any(oauth):
        return None
    return (f"Teams SSO: the Azure Bot's OAuth connection {', '.join(filter(None, oauth))} needs the Token Exchange "
            f"URL api://botid-{client_id}, the Application ID URI the app registration exposes (and "
            "webApplicationInfo.resource in the Teams manifest).")


def consent_hint(settings: Mapping[str, str]) -> str | None:
    """Users may not consent to Files.Read.All under Microsoft's default policy, and on-behalf-of cannot prompt:
    an admin grants the permissions once, at this URL."""
    client_id, tenant = _service(settings, "CLIENTID"), _service(settings, "TENANTID")
    if not (_valid_id(client_id) and tenant and tenant != NIL_GUID):
        return None
    try:
        login = cloud_from_settings(settings).login_endpoint.rstrip("/")
    except ValueError:
        return None
    return (f"Admin consent (step 4): a Global, Application or Cloud Application Administrator opens "
            f"{login}/{tenant}/adminconsent?client_id={client_id} and accepts, which grants the Graph permissions "
            "the registration lists (openid, profile, offline_access among them) for every user.")


def redirect_hint(settings: Mapping[str, str]) -> str | None:
    """The OAuth connection finishes sign-in at its token service's own redirect URI; a regional token service
    (Europe, India, US government) needs its own URI on the app registration."""
    if TEAMS_HANDLER not in handlers(settings):
        return None
    try:
        token_service = cloud_from_settings(settings).token_service_endpoint.rstrip("/")
    except ValueError:
        return None
    parts = urlsplit(token_service)
    host = TOKEN_SERVICE_REDIRECT_HOSTS.get(parts.netloc.lower(), parts.netloc)
    return f"Redirect URI (step 1): {parts.scheme}://{host}/.auth/web/redirect on the app registration (platform Web)."


BOT_SERVICE_TOKEN_STORE = "9ExAW52n_ky4ZiS_jhpJIQ"
"""Bot Service's token store in a federated credential's subject, as Microsoft gives it (base64url of its app id)."""


def federation_hint(settings: Mapping[str, str]) -> str | None:
    """The subject of the federated credential that the OAuth connection "AAD v2 with Federated Credentials" presents:
    `/eid1/c/pub/t/{tenant}/a/{token store}/{unique identifier}`, the tenant id as its GUID byte array in base64url
    (https://learn.microsoft.com/azure/bot-service/bot-builder-authentication-federated-credential)."""
    tenant = _service(settings, "TENANTID")
    if TEAMS_HANDLER not in handlers(settings) or not _valid_id(tenant):
        return None
    encoded = base64.urlsafe_b64encode(uuid.UUID(tenant).bytes_le).decode().rstrip("=")
    return (f"OAuth connection with a federated credential (step 6): issuer {_login(settings)}/{tenant}/v2.0, subject "
            f"/eid1/c/pub/t/{encoded}/a/{BOT_SERVICE_TOKEN_STORE}/{{the connection's Unique Identifier}}, audience "
            "api://AzureADTokenExchange.")


def _login(settings: Mapping[str, str]) -> str:
    try:
        return cloud_from_settings(settings).login_endpoint.rstrip("/")
    except ValueError:
        return "https://login.microsoftonline.com"


def skill_hint(settings: Mapping[str, str]) -> str | None:
    """The skill answers 401 to everyone until SKILL_ALLOWED_CALLERS names the Copilot Studio agent's app id."""
    if setting_list(settings, SKILL_CALLERS_KEY):
        return None
    return (f"Copilot Studio skill (step 8): closed, {SKILL_CALLERS_KEY} is empty; to open it, set it to the Copilot "
            "Studio agent's id, which its Settings > Skills > Add a skill window shows.")


def table(findings: list[Finding], widths: tuple[int, int, int] = (36, 42, 42)) -> str:
    """KEY | PROBLEM | FIX, wrapped to fit; keys break after a `__`."""
    rule = "-+-".join("-" * width for width in widths)
    lines: list[str] = []
    for row in [("KEY", "PROBLEM", "FIX"), *((f.key, f.problem, f.fix) for f in findings)]:
        cells = [_wrap_key(row[0], widths[0]), *(textwrap.wrap(text, width) or [""]
                                                 for text, width in zip(row[1:], widths[1:], strict=True))]
        for line in range(max(len(cell) for cell in cells)):
            lines.append(" | ".join((cell[line] if line < len(cell) else "").ljust(width)
                                    for cell, width in zip(cells, widths, strict=True)).rstrip())
        lines.append(rule)
    return "\n".join(lines)


def _wrap_key(key: str, width: int) -> list[str]:
    segments = key.split("__")
    lines = [""]
    for index, segment in enumerate(segments):
        piece = segment + ("__" if index < len(segments) - 1 else "")
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return [part for line in lines for part in textwrap.wrap(line, width)]


def _masked(text: str, settings: Mapping[str, str]) -> str:
    """Belt and braces: no check prints a secret's value, and this removes any that slipped into the text."""
    for key, value in settings.items():
        if SECRET_KEY.search(key) and len(value.strip()) >= 4:
            text = re.sub(re.escape(value.strip()), "****", text, flags=re.IGNORECASE)
    return text


def checklist(findings: list[Finding]) -> list[str]:
    """docs/deploy.md's steps, each marked: `fix` (a finding is about one of its keys), `env ok` (its keys are fine;
    its portal side is not seen) or `portal` (nothing in .env shows it), with the link to its section."""
    lines = [f"Deployment checklist ({DEPLOY_DOC}):"]
    for number, step in enumerate(CHECKLIST, start=1):
        problems = sum(1 for finding in findings if finding.key.startswith(step.keys)) if step.keys else 0
        mark = "fix" if problems else "env ok" if step.keys else "portal"
        lines.append(f"  [{mark:<6}] {number}. {step.title}")
        lines.append(f"             {DEPLOY_DOC}#{step.anchor}")
        if step.keys:
            lines.append(textwrap.fill(", ".join(f"{key}…" if key.endswith("__") else key for key in step.keys), 120,
                                       initial_indent="             settings: ", subsequent_indent=" " * 23,
                                       break_on_hyphens=False, break_long_words=False))
    return lines


def run(env_file: Path, environ: Mapping[str, str], out: TextIO, explain: bool = False) -> int:
    """Report on the settings `bot.py --env-file env_file` would run with; 0 when clean (warnings allowed), 1 with
    findings. With `explain`, docs/deploy.md's checklist follows."""
    settings = effective_settings(env_file, environ)
    source = f"{env_file} and the environment" if env_file.is_file() else f"the environment ({env_file} not found)"
    report = [f"Config doctor: {source}; the environment wins over the file.", ""]
    doctor = Doctor(settings)
    findings = doctor.run()
    if findings:
        report += [table(findings), "", f"{len(findings)} problem{'s' if len(findings) > 1 else ''} found."]
    else:
        report += ["No problems found.", *summary(settings)]
    if doctor.warnings:
        count = len(doctor.warnings)
        report += ["", table(doctor.warnings), f"{count} warning{'s' if count > 1 else ''}: fine for a trial, not "
                   "for production."]
    for hint in hints(settings):
        report += ["", textwrap.fill(hint, 120, break_on_hyphens=False, break_long_words=False)]
    if explain:
        report += ["", *checklist(findings)]
    out.write(_masked("\n".join(report), settings) + "\n")
    return 1 if findings else 0
