"""`python bot.py doctor`: each seeded misconfiguration is found under its key; good configurations pass."""

from __future__ import annotations

import io
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest
from dotenv import dotenv_values

from diagnostics.doctor import Doctor, diagnose, run
from localcloud.launcher import CloudProcess

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
HANDLERS = "AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__"
CLIENT_ID = "4f2c9a1e-7b3d-4e8f-9a6b-1c2d3e4f5a6b"
SECRET = "Xq8Q~s3cr3t.Value-abcdefghijklmnopqrstuv"
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LW5vdC1wcmludGVk=="
ACCOUNT_URL = "https://contosoagent.blob.core.windows.net"
IDENTITY = "0b6f3c2d-8e1a-4f5b-9c7d-2a3b4c5d6e7f"
LOOPBACK_ENDPOINTS = {
    "LOGIN_ENDPOINT": "https://127.0.0.1:8443",
    "TOKEN_SERVICE_ENDPOINT": "http://127.0.0.1:8444",
    "BOTFRAMEWORK_JWKS_URL": "https://127.0.0.1:8445/v1/.well-known/keys",
    "ENTRA_JWKS_URL": "https://127.0.0.1:8443/{tenant}/discovery/v2.0/keys",
    "GRAPH_ENDPOINT": "https://127.0.0.1:8446",
}
def example_settings() -> dict[str, str]:
    """.env.example with its placeholders filled in."""
    example = {key: value or "" for key, value in dotenv_values(ROOT / ".env.example").items()}
    return {**example, f"{SERVICE}CLIENTID": CLIENT_ID,
            f"{SERVICE}TENANTID": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", f"{SERVICE}CLIENTSECRET": SECRET}


def write_env(path: Path, settings: Mapping[str, str | None]) -> Path:
    path.write_text("".join(f"{key}='{value}'\n" for key, value in settings.items() if value is not None))
    return path


def doctor(env_file: Path, environ: Mapping[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    return run(env_file, environ or {}, out), out.getvalue()


def renamed(old: str, new: str) -> dict[str, str | None]:
    base = example_settings()
    return {**{key: None for key in base if key.startswith(old)},
            **{new + key[len(old):]: value for key, value in base.items() if key.startswith(old)}}


SEEDED: list[tuple[str, dict[str, str | None], str]] = [
    ("authtype-case", {f"{SERVICE}AUTHTYPE": "clientsecret"}, f"{SERVICE}AUTHTYPE"),
    ("authtype-unknown", {f"{SERVICE}AUTHTYPE": "Secret"}, f"{SERVICE}AUTHTYPE"),
    ("clientid-not-guid", {f"{SERVICE}CLIENTID": "my-agent"}, f"{SERVICE}CLIENTID"),
    ("clientid-placeholder", {f"{SERVICE}CLIENTID": "00000000-0000-0000-0000-000000000000"}, f"{SERVICE}CLIENTID"),
    ("clientid-missing", {f"{SERVICE}CLIENTID": None}, f"{SERVICE}CLIENTID"),
    ("tenantid-malformed", {f"{SERVICE}TENANTID": "contoso"}, f"{SERVICE}TENANTID"),
    ("tenantid-organizations", {f"{SERVICE}TENANTID": "organizations"}, f"{SERVICE}TENANTID"),
    ("secret-missing", {f"{SERVICE}CLIENTSECRET": ""}, f"{SERVICE}CLIENTSECRET"),
    ("certificate-without-pfx", {f"{SERVICE}AUTHTYPE": "certificate", f"{SERVICE}CLIENTSECRET": ""},
     f"{SERVICE}CERTPFXFILE"),
    ("setting-misspelt", {f"{SERVICE}CLIENT_ID": CLIENT_ID}, f"{SERVICE}CLIENT_ID"),
    ("sdk-key-case", {"Connections__OTHER__SETTINGS__CLIENTID": CLIENT_ID}, "Connections__OTHER__SETTINGS__CLIENTID"),
    ("service-connection-case", {**renamed(SERVICE, "CONNECTIONS__Service_Connection__SETTINGS__"),
                                 f"{HANDLERS}CONNECTOR__SETTINGS__OBOCONNECTIONNAME": "Service_Connection"},
     "CONNECTIONS__Service_Connection__SETTINGS__CLIENTID"),
    ("handler-type-unknown", {f"{HANDLERS}GRAPH__TYPE": "OAuth"}, f"{HANDLERS}GRAPH__TYPE"),
    ("handler-type-wrong", {f"{HANDLERS}GRAPH__TYPE": "ConnectorUserAuthorization"}, f"{HANDLERS}GRAPH__TYPE"),
    ("connector-handler-missing", {key: None for key in example_settings() if "__CONNECTOR__" in key},
     f"{HANDLERS}CONNECTOR__TYPE"),
    ("authtype-certificate-subject-name", {f"{SERVICE}AUTHTYPE": "CertificateSubjectName",
                                           f"{SERVICE}CLIENTSECRET": ""}, f"{SERVICE}AUTHTYPE"),
    ("authtype-entra-sidecar", {f"{SERVICE}AUTHTYPE": "EntraAuthSideCar", f"{SERVICE}CLIENTSECRET": ""},
     f"{SERVICE}AUTHTYPE"),
    ("managed-identity-cannot-do-obo", {f"{SERVICE}AUTHTYPE": "UserManagedIdentity", f"{SERVICE}CLIENTSECRET": ""},
     f"{SERVICE}AUTHTYPE"),
    ("secret-left-beside-federated-credentials", {f"{SERVICE}AUTHTYPE": "FederatedCredentials",
                                                  f"{SERVICE}FEDERATEDCLIENTID": IDENTITY}, f"{SERVICE}CLIENTSECRET"),
    ("federated-client-id-not-guid", {f"{SERVICE}AUTHTYPE": "FederatedCredentials", f"{SERVICE}CLIENTSECRET": "",
                                      f"{SERVICE}FEDERATEDCLIENTID": "agent-identity"}, f"{SERVICE}FEDERATEDCLIENTID"),
    ("handler-id-case", renamed(f"{HANDLERS}CONNECTOR__", f"{HANDLERS}Connector__"), f"{HANDLERS}Connector__TYPE"),
    ("graph-without-oauth-connection", {f"{HANDLERS}GRAPH__SETTINGS__AZUREBOTOAUTHCONNECTIONNAME": None},
     f"{HANDLERS}GRAPH__SETTINGS__AZUREBOTOAUTHCONNECTIONNAME"),
    ("auto-sign-in-false", {"AGENTAPPLICATION__USERAUTHORIZATION__AUTO_SIGN_IN": "false"},
     "AGENTAPPLICATION__USERAUTHORIZATION__AUTO_SIGN_IN"),
    ("obo-connection-case", {f"{HANDLERS}CONNECTOR__SETTINGS__OBOCONNECTIONNAME": "service_connection"},
     f"{HANDLERS}CONNECTOR__SETTINGS__OBOCONNECTIONNAME"),
    ("connector-without-scopes", {f"{HANDLERS}CONNECTOR__SETTINGS__SCOPES": None},
     f"{HANDLERS}CONNECTOR__SETTINGS__SCOPES"),
    ("scopes-with-commas", {f"{HANDLERS}CONNECTOR__SETTINGS__SCOPES": "User.Read,Files.Read"},
     f"{HANDLERS}CONNECTOR__SETTINGS__SCOPES"),
    ("cloud-unknown", {"AGENT_CLOUD": "azure"}, "AGENT_CLOUD"),
    ("usgov-with-public-graph", {"AGENT_CLOUD": "usgov", "GRAPH_ENDPOINT": "https://graph.microsoft.com"},
     "GRAPH_ENDPOINT"),
    ("local-without-endpoint", {"AGENT_CLOUD": "local", **LOOPBACK_ENDPOINTS, "LOGIN_ENDPOINT": None},
     "LOGIN_ENDPOINT"),
    ("local-off-loopback", {"AGENT_CLOUD": "local", **LOOPBACK_ENDPOINTS,
                            "GRAPH_ENDPOINT": "https://graph.microsoft.com"}, "GRAPH_ENDPOINT"),
    ("public-on-loopback", {"LOGIN_ENDPOINT": "https://127.0.0.1:8443"}, "LOGIN_ENDPOINT"),
    ("http-off-loopback", {"TOKEN_SERVICE_ENDPOINT": "http://api.botframework.com"}, "TOKEN_SERVICE_ENDPOINT"),
    ("endpoint-not-url", {"GRAPH_ENDPOINT": "graph.microsoft.com"}, "GRAPH_ENDPOINT"),
    ("ca-file-missing", {"EXTRA_CA_FILE": str(ROOT / "no-such-ca.pem")}, "EXTRA_CA_FILE"),
    ("ca-file-not-pem", {"EXTRA_CA_FILE": str(ROOT / "pyproject.toml")}, "EXTRA_CA_FILE"),
    ("storage-unknown", {"STORAGE": "sql"}, "STORAGE"),
    ("blob-without-account", {"STORAGE": "blob"}, "AZURE_STORAGE_ACCOUNT_URL"),
    ("blob-account-url-http", {"STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": "http://agent.blob.core.windows.net"},
     "AZURE_STORAGE_ACCOUNT_URL"),
    ("blob-account-url-not-blob", {"STORAGE": "blob",
                                   "AZURE_STORAGE_ACCOUNT_URL": "https://agent.table.core.windows.net"},
     "AZURE_STORAGE_ACCOUNT_URL"),
    ("blob-url-and-connection-string", {"STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": ACCOUNT_URL,
                                        "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"},
     "AZURE_STORAGE_CONNECTION_STRING"),
    ("managed-identity-client-id-not-guid", {"STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": ACCOUNT_URL,
                                             "AZURE_CLIENT_ID": "agent-identity"}, "AZURE_CLIENT_ID"),
    ("blob-connection-string-incomplete", {"STORAGE": "blob",
                                           "AZURE_STORAGE_CONNECTION_STRING": f"AccountKey={ACCOUNT_KEY}"},
     "AZURE_STORAGE_CONNECTION_STRING"),
    ("blob-container-name", {"STORAGE": "blob", "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
                             "AZURE_STORAGE_CONTAINER": "Agent_State"}, "AZURE_STORAGE_CONTAINER"),
    ("log-level-case", {"LOG_LEVEL": "info"}, "LOG_LEVEL"),
    ("port-not-number", {"PORT": "http"}, "PORT"),
    ("drain-too-long", {"DRAIN_SECONDS": "600"}, "DRAIN_SECONDS"),
    ("turn-deadline-past-bot-service", {"TURN_DEADLINE_SECONDS": "90"}, "TURN_DEADLINE_SECONDS"),
    ("connector-caller-not-guid", {"CONNECTOR_ALLOWED_CALLERS": "copilot-studio"}, "CONNECTOR_ALLOWED_CALLERS"),
    ("connector-tenant-domain", {"CONNECTOR_ALLOWED_TENANTS": "contoso.onmicrosoft.com"}, "CONNECTOR_ALLOWED_TENANTS"),
    ("skill-caller-not-guid", {"SKILL_ALLOWED_CALLERS": "my copilot"}, "SKILL_ALLOWED_CALLERS"),
    ("reply-host-as-url", {"COPILOT_STUDIO_REPLY_HOSTS": "https://copilot.contoso.example/replies"},
     "COPILOT_STUDIO_REPLY_HOSTS"),
    ("personal-data-yes", {"LOG_PERSONAL_DATA": "yes"}, "LOG_PERSONAL_DATA"),
]


@pytest.mark.parametrize(("changes", "key"), [row[1:] for row in SEEDED], ids=[row[0] for row in SEEDED])
def test_finds_each_seeded_misconfiguration_under_its_key(
    tmp_path: Path, changes: dict[str, str | None], key: str
) -> None:
    settings = {**example_settings(), **changes}
    env_file = write_env(tmp_path / ".env", settings)
    status, output = doctor(env_file)
    found = {finding.key for finding in diagnose({k: v for k, v in settings.items() if v is not None})}
    assert (status, found) == (1, {key})
    assert "1 problem found." in output


def test_example_configuration_passes(tmp_path: Path) -> None:
    status, output = doctor(write_env(tmp_path / ".env", example_settings()))
    assert status == 0, output
    assert "No problems found." in output
    assert "Cloud: public (Graph https://graph.microsoft.com" in output
    assert "GRAPH (UserAuthorization, OAuth connection graph)" in output


def test_local_cloud_env_file_passes(cloud: CloudProcess) -> None:
    status, output = doctor(cloud.env_file)
    assert status == 0, output
    assert "Cloud: local" in output


def test_finding_gives_the_right_spelling(tmp_path: Path) -> None:
    _, output = doctor(write_env(tmp_path / ".env", {**example_settings(), f"{SERVICE}AUTHTYPE": "clientsecret"}))
    assert "use ClientSecret" in output


def test_secrets_never_appear_in_the_output(tmp_path: Path) -> None:
    broken = {**example_settings(), f"{SERVICE}CLIENTID": SECRET, "STORAGE": "blob", "AGENT_CLOUD": SECRET,
              "AZURE_STORAGE_CONNECTION_STRING": f"AccountName=agent;AccountKey={ACCOUNT_KEY};BlobEndpoint=http://x"}
    _, with_findings = doctor(write_env(tmp_path / "broken.env", broken))
    _, clean = doctor(write_env(tmp_path / "clean.env", example_settings()))
    for output in (with_findings, clean):
        assert SECRET.lower() not in output.lower()
        assert ACCOUNT_KEY.lower() not in output.lower()


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    env_file = write_env(tmp_path / ".env", {**example_settings(), "AGENT_CLOUD": "azure"})
    assert doctor(env_file, {"AGENT_CLOUD": "public"})[0] == 0
    assert doctor(write_env(tmp_path / "good.env", example_settings()), {"AGENT_CLOUD": "azure"})[0] == 1


def test_output_names_the_token_exchange_url_for_sso(tmp_path: Path) -> None:
    _, output = doctor(write_env(tmp_path / ".env", example_settings()))
    assert f"api://botid-{CLIENT_ID}" in output


def test_bot_doctor_command_exits_with_the_verdict(tmp_path: Path) -> None:
    good = write_env(tmp_path / "good.env", example_settings())
    bad = write_env(tmp_path / "bad.env", {**example_settings(), "AGENT_CLOUD": "azure"})
    environ = {"PATH": os.environ.get("PATH", "")}
    results = [subprocess.run([sys.executable, "bot.py", "doctor", "--env-file", str(path)], cwd=ROOT, env=environ,
                              capture_output=True, text=True, timeout=60) for path in (good, bad)]
    assert [result.returncode for result in results] == [0, 1], [result.stdout + result.stderr for result in results]
    assert "AGENT_CLOUD" in results[1].stdout


def test_copilot_studio_only_needs_no_teams_handler(tmp_path: Path) -> None:
    """The connector needs no Azure Bot (microsoft/Agents#219): without the Teams handler the doctor is content."""
    settings = {key: value for key, value in example_settings().items() if "__GRAPH__" not in key}
    status, output = doctor(write_env(tmp_path / ".env", settings))

    assert status == 0, output
    assert "Route: Copilot Studio only" in output
    assert "Token Exchange URL" not in output and "Redirect URI" not in output


def test_secretless_configuration_passes_with_no_secret_and_no_storage_key(tmp_path: Path) -> None:
    settings = {**example_settings(), f"{SERVICE}AUTHTYPE": "FederatedCredentials", f"{SERVICE}CLIENTSECRET": "",
                f"{SERVICE}FEDERATEDCLIENTID": IDENTITY, "STORAGE": "blob", "AZURE_STORAGE_ACCOUNT_URL": ACCOUNT_URL,
                "AZURE_CLIENT_ID": IDENTITY}
    status, output = doctor(write_env(tmp_path / ".env", settings))

    assert status == 0, output
    assert f"Storage: blob through Entra ID at {ACCOUNT_URL} (no key)" in output


def warned(settings: Mapping[str, str]) -> set[str]:
    doctor = Doctor(settings)
    doctor.run()
    return {warning.key for warning in doctor.warnings}


def test_memory_storage_in_a_production_cloud_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    status, output = doctor(write_env(tmp_path / ".env", {**example_settings(), "STORAGE": "memory"}))

    assert status == 0 and "scale-to-zero" in output
    assert "STORAGE" in warned({**example_settings(), "STORAGE": "memory"})


def test_a_client_secret_in_a_production_cloud_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    status, _ = doctor(write_env(tmp_path / ".env", example_settings()))

    assert status == 0
    assert f"{SERVICE}AUTHTYPE" in warned(example_settings())


def test_memory_storage_on_the_local_cloud_is_not_warned_about(cloud: CloudProcess) -> None:
    assert "warning" not in doctor(cloud.env_file)[1]


def test_output_gives_the_admin_consent_url(tmp_path: Path) -> None:
    _, output = doctor(write_env(tmp_path / ".env", example_settings()))
    tenant = example_settings()[f"{SERVICE}TENANTID"]

    assert f"https://login.microsoftonline.com/{tenant}/adminconsent?client_id={CLIENT_ID}" in output


@pytest.mark.parametrize(("token_service", "redirect"), [
    ("", "https://token.botframework.com/.auth/web/redirect"),
    ("https://europe.token.botframework.com", "https://europe.token.botframework.com/.auth/web/redirect"),
    ("https://india.token.botframework.com", "https://india.token.botframework.com/.auth/web/redirect")])
def test_output_gives_the_redirect_uri_of_the_token_service_in_use(
        tmp_path: Path, token_service: str, redirect: str) -> None:
    _, output = doctor(write_env(tmp_path / ".env", {**example_settings(), "TOKEN_SERVICE_ENDPOINT": token_service}))

    assert f"Redirect URI (step 1): {redirect}" in output


def test_output_says_the_skill_is_closed_until_the_copilot_studio_agent_is_named(tmp_path: Path) -> None:
    _, closed = doctor(write_env(tmp_path / "closed.env", example_settings()))
    _, open_ = doctor(write_env(tmp_path / "open.env", {**example_settings(), "SKILL_ALLOWED_CALLERS": IDENTITY}))

    assert "Copilot Studio skill (step 8): closed" in closed
    assert "Copilot Studio skill" not in open_


def test_output_gives_the_subject_of_the_oauth_connections_federated_credential(tmp_path: Path) -> None:
    """Microsoft's own tenant id encodes as v4j5cvGGr0GRqy180BHbRw (its GUID byte array, base64url)."""
    settings = {**example_settings(), f"{SERVICE}TENANTID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    _, output = doctor(write_env(tmp_path / ".env", settings))

    assert "subject /eid1/c/pub/t/v4j5cvGGr0GRqy180BHbRw/a/9ExAW52n_ky4ZiS_jhpJIQ/" in " ".join(output.split())


async def test_the_admin_consent_url_it_prints_for_the_local_cloud_opens_that_tenants_admin_consent_page(
        cloud: CloudProcess, client_ssl: ssl.SSLContext) -> None:
    """The doctor and the local cloud agree on step 4: the URL it prints is one an administrator can open."""
    found = re.search(r"https://\S+/adminconsent\?client_id=\S+", doctor(cloud.env_file)[1])
    assert found, "no admin-consent URL"

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ssl)) as browser, \
            browser.get(found.group(0)) as page:
        assert page.status == 200 and "everyone in your organization" in await page.text()
