"""The local Entra ID and Bot Framework keys, driven by the real MSAL, PyJWT and requests clients."""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import jwt
import msal
import pytest
import requests
from aiohttp import web
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

from localcloud import botframework
from localcloud.cloud import Cloud, Endpoints, run_cloud
from localcloud.launcher import CloudProcess
from localcloud.pki import CertificateAuthority, SigningKey
from localcloud.tenant import (
    SCRIPTS_CLIENT_ID,
    SCRIPTS_REDIRECT_URI,
    TEAMS_DESKTOP_CLIENT_ID,
    TENANT_ID,
    UNCONSENTED_CLIENT_ID,
    Directory,
    stable_id,
)
from localcloud.tokens import TokenIssuer

GRAPH = "https://graph.microsoft.com"
BOTFRAMEWORK = "https://api.botframework.com"
ISSUER = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
AGENT_ID = stable_id("app:agent")
ADELE = "adele@contoso.onmicrosoft.com"
ADELE_PASSWORD = "Adele-Local-1!"

# MSAL recommends form_post for web apps; these flows are a script's, which reads the code from the query.
pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")


@pytest.fixture(scope="module")
def login(cloud: CloudProcess) -> str:
    return cloud.settings["LOGIN_ENDPOINT"]


class _PortKeeper(HTTPAdapter):
    """MSAL drops the authority's port when it asks for the user realm before ROPC; send it to the login port."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        request.url = (request.url or "").replace("https://127.0.0.1/", f"https://127.0.0.1:{self.port}/", 1)
        return super().send(request, *args, **kwargs)


@pytest.fixture(scope="module")
def http(login: str, ca_file: Path) -> Iterator[requests.Session]:
    """MSAL's HTTP client, trusting the cloud's CA (MSAL's own `verify=` loses to REQUESTS_CA_BUNDLE)."""
    with requests.Session() as session:
        session.trust_env = False
        session.verify = str(ca_file)
        session.mount("https://127.0.0.1/", _PortKeeper(urlsplit(login).port or 443))
        yield session


def confidential_client(login: str, http: requests.Session, secret: str) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        AGENT_ID, client_credential=secret, authority=f"{login}/{TENANT_ID}", instance_discovery=False,
        http_client=http,
    )


@pytest.fixture(scope="module")
def agent(cloud: CloudProcess, login: str, http: requests.Session) -> msal.ConfidentialClientApplication:
    return confidential_client(login, http, cloud.settings["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET"])


def public_client(login: str, http: requests.Session, client_id: str = SCRIPTS_CLIENT_ID
                  ) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        client_id, authority=f"{login}/{TENANT_ID}", instance_discovery=False, http_client=http
    )


@pytest.fixture(scope="module")
def verify(login: str, client_ssl: ssl.SSLContext) -> Any:
    """Checks a token against the published JWKS, as a resource server would."""
    keys = jwt.PyJWKClient(f"{login}/{TENANT_ID}/discovery/v2.0/keys", ssl_context=client_ssl)

    def check(token: str, audience: str) -> dict[str, Any]:
        key = keys.get_signing_key_from_jwt(token)
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)

    return check


def user_token(login: str, http: requests.Session, scopes: list[str], client_id: str = SCRIPTS_CLIENT_ID
               ) -> dict[str, Any]:
    return public_client(login, http, client_id).acquire_token_by_username_password(ADELE, ADELE_PASSWORD, scopes)


def test_discovery_names_local_endpoints_and_public_issuer(login: str, client_ssl: ssl.SSLContext,
                                                           ca_file: Path) -> None:
    config = requests.get(f"{login}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                          verify=str(ca_file), timeout=10).json()
    assert config["issuer"] == ISSUER
    assert config["token_endpoint"] == f"{login}/{TENANT_ID}/oauth2/v2.0/token"
    assert config["jwks_uri"] == f"{login}/{TENANT_ID}/discovery/v2.0/keys"
    assert config["authorization_endpoint"].startswith("https://127.0.0.1:")


def test_unknown_tenant_is_aadsts90002(login: str, ca_file: Path) -> None:
    response = requests.get(f"{login}/fabrikam.com/v2.0/.well-known/openid-configuration", verify=str(ca_file),
                            timeout=10)
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_errors_have_entra_shape(login: str, http: requests.Session) -> None:
    response = http.post(f"{login}/{TENANT_ID}/oauth2/v2.0/token",
                         data={"grant_type": "device_code_please", "client_id": SCRIPTS_CLIENT_ID}, timeout=10)
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "unsupported_grant_type"
    assert body["error_description"].startswith("AADSTS70003: ")
    assert {"error_codes", "timestamp", "trace_id", "correlation_id"} <= body.keys()


def app_token(app: msal.ConfidentialClientApplication, resource: str) -> dict[str, Any]:
    result = app.acquire_token_for_client([f"{resource}/.default"])
    assert result is not None
    return result


def test_client_credentials_for_graph(agent: msal.ConfidentialClientApplication, verify: Any) -> None:
    result = app_token(agent, GRAPH)
    claims = verify(result["access_token"], GRAPH)
    assert (claims["tid"], claims["azp"], claims["idtyp"]) == (TENANT_ID, AGENT_ID, "app")
    assert claims["exp"] > claims["iat"]


def test_client_credentials_for_bot_framework(agent: msal.ConfidentialClientApplication, verify: Any) -> None:
    result = app_token(agent, BOTFRAMEWORK)
    claims = verify(result["access_token"], BOTFRAMEWORK)
    assert (claims["iss"], claims["azp"]) == (ISSUER, AGENT_ID)


def test_client_credentials_with_wrong_secret_is_invalid_client(login: str, http: requests.Session) -> None:
    result = app_token(confidential_client(login, http, "not-the-secret"), GRAPH)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]


def test_password_grant_gives_a_delegated_graph_token(login: str, http: requests.Session, verify: Any) -> None:
    result = user_token(login, http, ["User.Read"])
    claims = verify(result["access_token"], GRAPH)
    assert claims["upn"] == ADELE
    assert claims["scp"] == "User.Read"
    assert result["id_token_claims"]["preferred_username"] == ADELE
    assert "refresh_token" in result


def test_wrong_password_is_aadsts50126(login: str, http: requests.Session) -> None:
    result = public_client(login, http).acquire_token_by_username_password(ADELE, "wrong", ["User.Read"])
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50126]


def test_refresh_token_renews_a_user_token(login: str, http: requests.Session, verify: Any) -> None:
    app = public_client(login, http)
    app.acquire_token_by_username_password(ADELE, ADELE_PASSWORD, ["User.Read"])
    account = app.get_accounts(username=ADELE)[0]
    result = app.acquire_token_silent(["Calendars.Read"], account, force_refresh=True)
    assert result is not None
    assert verify(result["access_token"], GRAPH)["scp"] == "Calendars.Read"

def test_teams_client_gets_a_token_for_the_agent_api(login: str, http: requests.Session, verify: Any) -> None:
    result = user_token(login, http, [f"api://botid-{AGENT_ID}/access_as_user"], TEAMS_DESKTOP_CLIENT_ID)
    claims = verify(result["access_token"], AGENT_ID)
    assert (claims["scp"], claims["azp"]) == ("access_as_user", TEAMS_DESKTOP_CLIENT_ID)


def test_on_behalf_of_exchanges_a_user_token_for_graph(
    login: str, http: requests.Session, agent: msal.ConfidentialClientApplication, verify: Any
) -> None:
    assertion = user_token(login, http, [f"api://{AGENT_ID}/access_as_user"])["access_token"]
    result = agent.acquire_token_on_behalf_of(assertion, ["User.Read"])
    claims = verify(result["access_token"], GRAPH)
    assert claims["scp"] == "User.Read"
    assert (claims["upn"], claims["tid"], claims["azp"]) == (ADELE, TENANT_ID, AGENT_ID)
    assert claims["oid"] == stable_id("user:adele")


def test_on_behalf_of_an_ungranted_scope_needs_consent(
    login: str, http: requests.Session, agent: msal.ConfidentialClientApplication
) -> None:
    assertion = user_token(login, http, [f"api://{AGENT_ID}/access_as_user"])["access_token"]
    result = agent.acquire_token_on_behalf_of(assertion, ["Mail.Send"])
    assert (result["error"], result["suberror"], result["error_codes"]) == ("invalid_grant", "consent_required",
                                                                              [65001])


def test_on_behalf_of_an_assertion_for_another_audience_fails(
    login: str, http: requests.Session, agent: msal.ConfidentialClientApplication
) -> None:
    graph_token = user_token(login, http, ["User.Read"])["access_token"]
    result = agent.acquire_token_on_behalf_of(graph_token, ["User.Read"])
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50013]


def _sign_in(flow: dict[str, Any], user: str, ca_file: Path, action: str = "accept") -> dict[str, str]:
    """Answer the sign-in page as a browser would: pick the user, press the button, read the redirect. The page is
    https, trusted by the cloud's CA only."""
    with requests.Session() as browser:
        browser.trust_env = False
        browser.verify = str(ca_file)
        page = browser.get(flow["auth_uri"], timeout=10)
        assert page.status_code == 200
        assert f'data-testid="user-{user}"' in page.text
        match = re.search(r'name="request" value="([^"]+)"', page.text)
        assert match is not None
        answer = browser.post(page.url, data={"request": match.group(1), "user": user, "action": action},
                              allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == SCRIPTS_REDIRECT_URI
    return dict(parse_qsl(location.query))


def test_auth_code_with_pkce_through_the_sign_in_page(login: str, http: requests.Session, verify: Any,
                                                      ca_file: Path) -> None:
    app = public_client(login, http)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=SCRIPTS_REDIRECT_URI, login_hint="megan")
    result = app.acquire_token_by_auth_code_flow(flow, _sign_in(flow, "megan", ca_file))
    claims = verify(result["access_token"], GRAPH)
    assert (claims["upn"], claims["scp"], claims["azp"]) == ("megan@contoso.onmicrosoft.com", "User.Read",
                                                              SCRIPTS_CLIENT_ID)
    assert "refresh_token" in result


def test_auth_code_is_single_use(login: str, http: requests.Session, ca_file: Path) -> None:
    app = public_client(login, http)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=SCRIPTS_REDIRECT_URI)
    response = _sign_in(flow, "isaiah", ca_file)
    assert "access_token" in app.acquire_token_by_auth_code_flow(dict(flow), response)
    again = app.acquire_token_by_auth_code_flow(dict(flow), response)
    assert again["error"] == "invalid_grant"


def test_cancel_on_the_sign_in_page_redirects_access_denied(login: str, http: requests.Session,
                                                            ca_file: Path) -> None:
    flow = public_client(login, http).initiate_auth_code_flow(["User.Read"], redirect_uri=SCRIPTS_REDIRECT_URI)
    response = _sign_in(flow, "adele", ca_file, action="cancel")
    assert (response["error"], response["state"]) == ("access_denied", flow["state"])


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(login: str, http: requests.Session,
                                                                     ca_file: Path) -> None:
    flow = public_client(login, http).initiate_auth_code_flow(["User.Read"], redirect_uri="https://evil.example/")
    response = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10, verify=str(ca_file))
    assert response.status_code == 400
    assert "AADSTS50011" in response.text
    assert "Location" not in response.headers


def test_a_user_cannot_consent_to_files_read_all_and_is_told_to_ask_an_admin(
        login: str, http: requests.Session, ca_file: Path) -> None:
    """Microsoft's managed user consent policy (the default since 2025) lets no user grant file access to an app."""
    app = public_client(login, http, UNCONSENTED_CLIENT_ID)
    flow = app.initiate_auth_code_flow(["User.Read", "Files.Read.All"], redirect_uri=SCRIPTS_REDIRECT_URI)

    page = requests.get(flow["auth_uri"], allow_redirects=False, timeout=10, verify=str(ca_file))

    assert "AADSTS90094" in page.text and "only an admin can grant" in page.text and "Files.Read.All" in page.text
    assert "Location" not in page.headers and 'name="request"' not in page.text


def test_a_user_may_still_consent_to_user_read_for_an_app_no_admin_consented(
        login: str, http: requests.Session, verify: Any, ca_file: Path) -> None:
    app = public_client(login, http, UNCONSENTED_CLIENT_ID)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=SCRIPTS_REDIRECT_URI)

    result = app.acquire_token_by_auth_code_flow(flow, _sign_in(flow, "diego", ca_file))

    assert verify(result["access_token"], GRAPH)["scp"] == "User.Read"


async def test_an_admin_grants_consent_at_the_admin_consent_url_and_then_users_may_sign_in(tmp_path: Path) -> None:
    """docs/deploy.md step 4: the URL the doctor prints; only an administrator may accept it, for everyone."""
    async with run_cloud(tmp_path) as cloud, aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=cloud.client_ssl or True)) as browser:
        tenant = f"{cloud.endpoints.login_ui}/{cloud.tenant_id}"
        async with browser.get(f"{cloud.endpoints.login}/{cloud.tenant_id}/adminconsent",
                               params={"client_id": UNCONSENTED_CLIENT_ID}) as page:
            asked, consent_url = await page.text(), str(page.url)
        async with browser.post(consent_url, data={"user": "adele"}) as refused:
            not_an_admin = (refused.status, await refused.text())
        async with browser.post(consent_url, data={"user": "patti"}) as accepted:
            granted = await accepted.text()
        async with browser.get(f"{tenant}/oauth2/v2.0/authorize", params={
                "client_id": UNCONSENTED_CLIENT_ID, "redirect_uri": SCRIPTS_REDIRECT_URI, "response_type": "code",
                "scope": "User.Read Files.Read.All"}) as sign_in:
            afterwards = await sign_in.text()

    assert "Files.Read.All" in asked and "everyone in your organization" in asked
    assert not_an_admin[0] == 403 and "AADSTS90094" in not_an_admin[1]
    assert 'data-testid="granted"' in granted and "Files.Read.All" in granted
    assert "AADSTS90094" not in afterwards and 'name="request"' in afterwards


class _Server:
    """An aiohttp app on its own loop in a thread, so blocking clients in the test can call it."""

    def __init__(self, app: web.Application, server_ssl: ssl.SSLContext) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(app, access_log=None)
        self.site = asyncio.run_coroutine_threadsafe(self._start(server_ssl), self.loop).result(10)

    async def _start(self, server_ssl: ssl.SSLContext) -> web.TCPSite:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=server_ssl)
        await site.start()
        return site

    @property
    def port(self) -> int:
        server = self.site._server
        assert isinstance(server, asyncio.Server)
        return server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def bot_framework_keys(tmp_path: Path) -> Iterator[tuple[str, Cloud, ssl.SSLContext]]:
    """The Bot Framework keys app in-process: the test needs the cloud's private key to mint a channel token."""
    ca = CertificateAuthority()
    directory = Directory.create()
    cloud = Cloud(
        directory=directory,
        issuer=TokenIssuer(directory.tenant_id, SigningKey.generate(), SigningKey.generate()),
        endpoints=Endpoints(*(["https://127.0.0.1:1"] * 6)),
        ca_file=tmp_path / "ca.pem",
    )
    server = _Server(botframework.create_app(cloud), ca.server_ssl_context(tmp_path))
    try:
        yield f"https://127.0.0.1:{server.port}", cloud, ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    finally:
        server.stop()


def test_bot_framework_keys_verify_a_channel_token(bot_framework_keys: tuple[str, Cloud, ssl.SSLContext]) -> None:
    url, cloud, client_ssl = bot_framework_keys
    token = cloud.issuer.channel_token(app_id=AGENT_ID, service_url="http://127.0.0.1:1/")
    key = jwt.PyJWKClient(f"{url}/v1/.well-known/keys", ssl_context=client_ssl).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=AGENT_ID, issuer=BOTFRAMEWORK)
    assert claims["serviceurl"] == "http://127.0.0.1:1/"


def test_bot_framework_metadata_and_endorsed_keys(cloud: CloudProcess, ca_file: Path) -> None:
    keys_url = cloud.settings["BOTFRAMEWORK_JWKS_URL"]
    metadata = requests.get(keys_url.replace("/keys", "/openidconfiguration"), verify=str(ca_file), timeout=10).json()
    assert (metadata["issuer"], metadata["jwks_uri"]) == (BOTFRAMEWORK, keys_url)
    keys = requests.get(keys_url, verify=str(ca_file), timeout=10).json()["keys"]
    assert "msteams" in keys[0]["endorsements"]

