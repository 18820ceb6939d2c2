"""The one place that decides which Microsoft cloud the agent talks to.

`AGENT_CLOUD` names a cloud (`public`, `usgov`, `usgovdod`, `china`, `local`); each endpoint can be overridden on its
own (`GRAPH_ENDPOINT`, `LOGIN_ENDPOINT`, `TOKEN_SERVICE_ENDPOINT`, `BOTFRAMEWORK_JWKS_URL`, `ENTRA_JWKS_URL`,
`EXTRA_CA_FILE`). `local` has no built-in endpoints: a local cloud writes them to an env file, like any other setting.
"""

from __future__ import annotations

import dataclasses
import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class CloudConfigurationError(ValueError):
    """The cloud settings are wrong; the message says which key and what is accepted."""


@dataclass(frozen=True)
class Cloud:
    """Every endpoint the agent reaches outside its own process."""

    name: str
    login_endpoint: str
    """Entra ID authority host, without tenant (`https://login.microsoftonline.com`)."""
    token_service_endpoint: str
    """Azure Bot Service token service (user tokens, sign-in links, SSO exchange)."""
    botframework_jwks_url: str
    """Keys that sign the tokens Bot Service puts on incoming activities."""
    entra_jwks_url: str
    """Keys that sign Entra tokens on incoming requests (Copilot Studio's connector); `{tenant}` is filled in."""
    graph_endpoint: str
    """Microsoft Graph host, without version (`https://graph.microsoft.com`)."""
    extra_ca_file: str | None = None
    """A PEM file of CAs trusted on top of the system's (a local cloud's, or a TLS-inspecting proxy's), by MSAL, the
    key downloads, Graph and the token-service and connector clients."""
    channel_token_issuer: str = "https://api.botframework.com"
    """`iss` of the tokens Bot Service puts on the activities it sends. A local cloud issues tokens that look exactly
    like the public cloud's, so it keeps the public issuers; only the keys' URLs differ."""
    entra_token_issuers: tuple[str, ...] = ("https://login.microsoftonline.com/{tenant}/v2.0",
                                            "https://sts.windows.net/{tenant}/")
    """`iss` of Entra access tokens (v2, v1), `{tenant}` the tenant id: Copilot Studio's connector and skill calls.
    https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference (`iss`)."""

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    def graph_base_url(self, version: str = "v1.0") -> str:
        return f"{self.graph_endpoint}/{version}"

    def authority(self, tenant: str) -> str:
        return f"{self.login_endpoint}/{tenant}"

    def ssl_context(self) -> ssl.SSLContext:
        """The system's trust store plus `extra_ca_file`, for the clients we build (MSAL, JWKS, Graph, Bot Service)."""
        return _ssl_context(self.extra_ca_file)


@functools.cache
def _ssl_context(extra_ca_file: str | None) -> ssl.SSLContext:
    """One context per trust, shared by every client (an `SSLContext` may serve many connections and threads):
    reading the system's trust store is slow enough to be felt, so it is read once rather than by each client at
    start-up or on its first turn."""
    context = ssl.create_default_context()
    if extra_ca_file:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


PUBLIC = Cloud(
    name="public",
    login_endpoint="https://login.microsoftonline.com",
    token_service_endpoint="https://api.botframework.com",
    botframework_jwks_url="https://login.botframework.com/v1/.well-known/keys",
    entra_jwks_url="https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys",
    graph_endpoint="https://graph.microsoft.com",
)
USGOV = Cloud(
    name="usgov",
    login_endpoint="https://login.microsoftonline.us",
    token_service_endpoint="https://tokengcch.botframework.azure.us",
    botframework_jwks_url="https://login.botframework.azure.us/v1/.well-known/keys",
    entra_jwks_url="https://login.microsoftonline.us/{tenant}/discovery/v2.0/keys",
    graph_endpoint="https://graph.microsoft.us",
    channel_token_issuer="https://api.botframework.us",
    entra_token_issuers=("https://login.microsoftonline.us/{tenant}/v2.0", "https://sts.windows.net/{tenant}/"),
)
USGOVDOD = dataclasses.replace(
    USGOV,
    name="usgovdod",
    token_service_endpoint="https://apiDoD.botframework.azure.us",
    graph_endpoint="https://dod-graph.microsoft.us",
)
CHINA = Cloud(
    name="china",
    login_endpoint="https://login.partner.microsoftonline.cn",
    token_service_endpoint="https://token.botframework.azure.cn",
    botframework_jwks_url="https://login.botframework.azure.cn/v1/.well-known/keys",
    entra_jwks_url="https://login.partner.microsoftonline.cn/{tenant}/discovery/v2.0/keys",
    graph_endpoint="https://microsoftgraph.chinacloudapi.cn",
    channel_token_issuer="https://api.botframework.azure.cn",
    entra_token_issuers=("https://login.partner.microsoftonline.cn/{tenant}/v2.0", "https://sts.chinacloudapi.cn/{tenant}/"),
)
KNOWN_CLOUDS = {cloud.name: cloud for cloud in (PUBLIC, USGOV, USGOVDOD, CHINA)}

# Setting key -> Cloud field. Every key is documented in .env.example.
OVERRIDE_KEYS = {
    "LOGIN_ENDPOINT": "login_endpoint",
    "TOKEN_SERVICE_ENDPOINT": "token_service_endpoint",
    "BOTFRAMEWORK_JWKS_URL": "botframework_jwks_url",
    "ENTRA_JWKS_URL": "entra_jwks_url",
    "GRAPH_ENDPOINT": "graph_endpoint",
    "EXTRA_CA_FILE": "extra_ca_file",
}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Host names that stay on this machine: the only ones plain http, a local cloud and a token-less reply may use."""


def cloud_from_settings(settings: Mapping[str, str]) -> Cloud:
    """Build the cloud from `AGENT_CLOUD` and the per-endpoint overrides that are set (empty means unset)."""
    name = (settings.get("AGENT_CLOUD") or "public").strip().lower()
    overrides = {field: settings[key].strip() for key, field in OVERRIDE_KEYS.items() if settings.get(key, "").strip()}
    for key, field in OVERRIDE_KEYS.items():
        if field in overrides and field != "extra_ca_file":
            overrides[field] = _checked_url(key, overrides[field].rstrip("/"))
    if name == "local":
        missing = [key for key, field in OVERRIDE_KEYS.items() if field not in overrides and key != "EXTRA_CA_FILE"]
        if missing:
            raise CloudConfigurationError(
                f"AGENT_CLOUD=local needs {', '.join(missing)}: start the local cloud with "
                "`python -m localcloud --env-file PATH` and load PATH (make demo does both)."
            )
        cloud = dataclasses.replace(PUBLIC, name="local", **overrides)  # a local cloud's tokens look like public's
        _require_loopback(cloud)
        return cloud
    if name not in KNOWN_CLOUDS:
        raise CloudConfigurationError(
            f"AGENT_CLOUD={name!r} is not a cloud; use one of: {', '.join([*KNOWN_CLOUDS, 'local'])}."
        )
    return dataclasses.replace(KNOWN_CLOUDS[name], **overrides)


def _checked_url(key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CloudConfigurationError(f"{key} must be an absolute http(s) URL, got {value!r}.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise CloudConfigurationError(f"{key} may use plain http only on loopback; use https for {parts.hostname}.")
    return value


def _require_loopback(cloud: Cloud) -> None:
    """A local cloud is on this machine; refusing anything else keeps test tokens off the network."""
    for field in ("login_endpoint", "token_service_endpoint", "botframework_jwks_url", "entra_jwks_url",
                  "graph_endpoint"):
        host = urlsplit(getattr(cloud, field)).hostname
        if host not in LOOPBACK_HOSTS:
            raise CloudConfigurationError(f"AGENT_CLOUD=local endpoints must be on loopback; {field} is on {host}.")
