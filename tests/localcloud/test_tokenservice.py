"""The local Bot Service token service, driven by the Agents SDK's own `UserTokenClient`, MSAL and a browser."""

from __future__ import annotations

import asyncio
import re
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import msal
import pytest
import requests
from microsoft_agents.activity import Activity, ActivityTypes, TokenExchangeRequest
from microsoft_agents.hosting.core._oauth import _FlowErrorTag, _FlowState, _FlowStateTag, _OAuthFlow
from microsoft_agents.hosting.core.connector.client import UserTokenClient

from localcloud.browser import magic_code, sign_in_over_http
from localcloud.launcher import CloudProcess
from localcloud.tenant import GRAPH_APP_ID, GRAPH_RESOURCE, SSO_CLIENTS, TEAMS_DESKTOP_CLIENT_ID, USERS
from localcloud.tokenservice import CONSENT_REQUIRED
from tests.support import chromium_trusting

CONNECTION = "graph"
CHANNEL = "msteams"
SETTING = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
ADELE = next(user for user in USERS if user.username == "adele")


def _authority(cloud: CloudProcess) -> str:
    return f"{cloud.settings['LOGIN_ENDPOINT']}/{cloud.settings[SETTING + 'TENANTID']}"


def _msal_http(cloud: CloudProcess) -> requests.Session:
    """MSAL's HTTP client, trusting the local CA. MSAL's `verify=CA file` is not enough here: requests lets
    REQUESTS_CA_BUNDLE from the environment win over a session's `verify`, so the environment is not trusted."""
    session = requests.Session()
    session.trust_env = False
    session.verify = cloud.settings["EXTRA_CA_FILE"]
    return session


def _access_token(result: dict[str, Any] | None) -> str:
    assert result and "access_token" in result, (result or {}).get("error_description")
    return result["access_token"]


@pytest.fixture(scope="session")
async def bot_token(cloud: CloudProcess) -> str:
    """The agent's own Bot Service token, from the local Entra ID by client credentials, as the SDK gets it."""
    with _msal_http(cloud) as http:
        app = msal.ConfidentialClientApplication(
            cloud.settings[SETTING + "CLIENTID"],
            client_credential=cloud.settings[SETTING + "CLIENTSECRET"],
            authority=_authority(cloud),
            instance_discovery=False,
            http_client=http,
        )
        return _access_token(
            await asyncio.to_thread(app.acquire_token_for_client, ["https://api.botframework.com/.default"])
        )


@pytest.fixture
async def client(cloud: CloudProcess, bot_token: str) -> AsyncIterator[UserTokenClient]:
    token_client = UserTokenClient(
        endpoint=cloud.settings["TOKEN_SERVICE_ENDPOINT"], token=bot_token, app_id=cloud.settings[SETTING + "CLIENTID"]
    )
    yield token_client
    await token_client.close()


@pytest.fixture
def user_id() -> str:
    """A fresh Teams user id per test, so tests do not see each other's tokens."""
    return f"29:{uuid.uuid4()}"


@pytest.fixture(scope="session")
async def teams_sso_token(cloud: CloudProcess, client_ssl: ssl.SSLContext) -> str:
    """What Teams gets for Adele by `getAuthToken`: a token for the agent's `access_as_user`, by ROPC as the Teams
    client. A plain OAuth request: MSAL's ROPC first asks `https://{host}/common/userrealm/…`, without the port."""
    return await _sso_token(cloud, client_ssl, TEAMS_DESKTOP_CLIENT_ID)


async def _sso_token(cloud: CloudProcess, client_ssl: ssl.SSLContext, client_id: str) -> str:
    form = {
        "grant_type": "password",
        "client_id": client_id,
        "username": ADELE.user_principal_name,
        "password": ADELE.password,
        "scope": f"api://botid-{cloud.settings[SETTING + 'CLIENTID']}/access_as_user",
    }
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ssl)) as session,
        session.post(f"{_authority(cloud)}/oauth2/v2.0/token", data=form) as response,
    ):
        return _access_token(await response.json())


def message(user_id: str, **fields: object) -> Activity:
    """An activity from `user_id` in Teams, as the SDK builds the token exchange state from it."""
    return Activity.model_validate({
        "type": ActivityTypes.message, "text": "/me", **fields,
        "id": str(uuid.uuid4()),
        "channelId": CHANNEL,
        "from": {"id": user_id},
        "recipient": {"id": "28:agent"},
        "conversation": {"id": f"a:{uuid.uuid4()}"},
        "serviceUrl": "http://127.0.0.1:1/",
    })


async def signed_in(client: UserTokenClient, user_id: str, ca_file: Path, user: str = "adele") -> str:
    """Run the whole magic-code sign-in for `user_id`; the code the page showed."""
    resource = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))
    assert resource.sign_in_resource is not None
    status, page = await sign_in_over_http(resource.sign_in_resource.sign_in_link, user, ca_file=ca_file)
    assert status == 200, page
    return magic_code(page)


async def test_unauthenticated_calls_get_401(cloud: CloudProcess, user_id: str) -> None:
    anonymous = UserTokenClient(endpoint=cloud.settings["TOKEN_SERVICE_ENDPOINT"], token="", app_id="x")
    try:
        with pytest.raises(aiohttp.ClientResponseError) as error:
            await anonymous.get_token_status(user_id, CHANNEL)
        assert error.value.status == 401
    finally:
        await anonymous.close()


async def test_a_token_for_another_app_gets_401(cloud: CloudProcess, user_id: str, teams_sso_token: str) -> None:
    stranger = UserTokenClient(endpoint=cloud.settings["TOKEN_SERVICE_ENDPOINT"], token=teams_sso_token, app_id="x")
    try:
        with pytest.raises(aiohttp.ClientResponseError) as error:
            await stranger.get_token_status(user_id, CHANNEL)
        assert error.value.status == 401
    finally:
        await stranger.close()


async def test_user_without_token_gets_sign_in_resource(client: UserTokenClient, cloud: CloudProcess,
                                                        user_id: str) -> None:
    answer = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))

    assert answer.token_response is None
    resource = answer.sign_in_resource
    assert resource is not None
    assert resource.sign_in_link.startswith(f"{cloud.settings['TOKEN_SERVICE_ENDPOINT']}/api/oauth/signin?signin=")
    assert resource.token_exchange_resource.uri == f"api://botid-{cloud.settings[SETTING + 'CLIENTID']}"
    assert not await client.get_user_token(user_id, CONNECTION, CHANNEL)


async def test_unknown_connection_gets_bad_argument(client: UserTokenClient, user_id: str) -> None:
    with pytest.raises(aiohttp.ClientResponseError) as error:
        await client.get_token_or_sign_in_resource("nope", message(user_id))
    assert error.value.status == 400


async def test_magic_code_completes_sign_in_with_a_graph_token(client: UserTokenClient, user_id: str,
                                                              ca_file: Path) -> None:
    code = await signed_in(client, user_id, ca_file)

    token = await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=code)

    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["aud"] in (GRAPH_RESOURCE, GRAPH_APP_ID)
    assert claims["oid"] == ADELE.id
    assert token.connection_name == CONNECTION and token.channel_id == CHANNEL
    answer = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))
    assert answer.token_response is not None and answer.token_response.token == token.token


async def test_wrong_code_gets_no_token(client: UserTokenClient, user_id: str,
                                       ca_file: Path) -> None:
    code = await signed_in(client, user_id, ca_file)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    assert not await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=wrong)


async def test_code_works_only_for_the_user_who_started_the_sign_in(client: UserTokenClient, user_id: str,
                                                                   ca_file: Path) -> None:
    code = await signed_in(client, user_id, ca_file)

    assert not await client.get_user_token(f"29:{uuid.uuid4()}", CONNECTION, CHANNEL, magic_code=code)
    assert await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=code)


async def test_code_is_single_use(client: UserTokenClient, user_id: str,
                                 ca_file: Path) -> None:
    code = await signed_in(client, user_id, ca_file)
    assert await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=code)
    await client.sign_out_user(user_id, CONNECTION, CHANNEL)

    assert not await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=code)


async def test_cancelled_sign_in_shows_a_readable_400(client: UserTokenClient, user_id: str, ca_file: Path) -> None:
    answer = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))
    assert answer.sign_in_resource is not None

    status, page = await sign_in_over_http(answer.sign_in_resource.sign_in_link, choice="cancel", ca_file=ca_file)

    assert status == 400
    assert "cancelled" in page


async def test_unknown_sign_in_link_shows_a_readable_400(cloud: CloudProcess) -> None:
    link = f"{cloud.settings['TOKEN_SERVICE_ENDPOINT']}/api/oauth/signin?signin=nope"
    async with aiohttp.ClientSession() as session, session.get(link) as response:
        assert response.status == 400
        assert "not valid or has expired" in await response.text()


async def test_sso_token_exchange_returns_a_graph_token(client: UserTokenClient, cloud: CloudProcess,
                                                        user_id: str, teams_sso_token: str) -> None:
    request = TokenExchangeRequest(token=teams_sso_token)

    token = await client.exchange_token(user_id, CONNECTION, CHANNEL, request)

    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["aud"] in (GRAPH_RESOURCE, GRAPH_APP_ID)
    assert claims["oid"] == ADELE.id
    assert (await client.get_user_token(user_id, CONNECTION, CHANNEL)).token == token.token


@pytest.mark.parametrize("client_id", sorted(SSO_CLIENTS), ids=[SSO_CLIENTS[key] for key in sorted(SSO_CLIENTS)])
async def test_every_microsoft_365_client_the_guide_pre_authorizes_gets_its_sso_token_exchanged(
        client: UserTokenClient, cloud: CloudProcess, client_ssl: ssl.SSLContext, user_id: str, client_id: str) -> None:
    """Teams, Microsoft 365 (where Copilot runs) and Outlook each ask for the SSO token as their own client."""
    request = TokenExchangeRequest(token=await _sso_token(cloud, client_ssl, client_id))

    token = await client.exchange_token(user_id, CONNECTION, CHANNEL, request)

    assert jwt.decode(token.token, options={"verify_signature": False})["oid"] == ADELE.id


async def test_exchanging_a_token_not_for_the_agent_is_a_bad_argument(client: UserTokenClient, bot_token: str,
                                                                     user_id: str) -> None:
    with pytest.raises(aiohttp.ClientResponseError) as error:
        await client.exchange_token(user_id, CONNECTION, CHANNEL, TokenExchangeRequest(token=bot_token))
    assert error.value.status == 400
    assert CONSENT_REQUIRED not in error.value.message


async def test_consent_required_switch_makes_the_sdk_answer_teams_412(client: UserTokenClient, cloud: CloudProcess,
                                                                      user_id: str, teams_sso_token: str) -> None:
    switch = f"{cloud.url}/_localcloud/tokenservice/consent-required"
    async with aiohttp.ClientSession() as session:
        async with session.put(switch, json={"user": "adele", "enabled": True}) as response:
            assert response.status == 200
        try:
            flow = _OAuthFlow(
                _FlowState(channel_id=CHANNEL, user_id=user_id, ms_app_id=cloud.settings[SETTING + "CLIENTID"],
                           connection=CONNECTION, auth_handler_id="GRAPH", tag=_FlowStateTag.BEGIN,
                           attempts_remaining=3, expiration=(datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
                client,
            )
            invoke = message(user_id, type=ActivityTypes.invoke, name="signin/tokenExchange",
                             value={"id": "x", "connectionName": CONNECTION, "token": teams_sso_token})

            response_of_flow = await flow.continue_flow(invoke)

            assert response_of_flow.flow_error_tag == _FlowErrorTag.PRECONDITION_FAILED
        finally:
            async with session.put(switch, json={"user": "adele", "enabled": False}) as response:
                assert response.status == 200


async def test_sign_out_removes_the_token(client: UserTokenClient, user_id: str, teams_sso_token: str) -> None:
    await client.exchange_token(user_id, CONNECTION, CHANNEL, TokenExchangeRequest(token=teams_sso_token))

    await client.sign_out_user(user_id, CONNECTION, CHANNEL)

    assert not await client.get_user_token(user_id, CONNECTION, CHANNEL)


async def test_token_status_tells_whether_a_token_is_stored(client: UserTokenClient,
                                                            user_id: str, teams_sso_token: str) -> None:
    before = await client.get_token_status(user_id, CHANNEL)
    await client.exchange_token(user_id, CONNECTION, CHANNEL, TokenExchangeRequest(token=teams_sso_token))
    after = await client.get_token_status(user_id, CHANNEL, include=CONNECTION)

    assert [(s.connection_name, s.has_token) for s in before] == [(CONNECTION, False)]
    assert [(s.connection_name, s.has_token) for s in after] == [(CONNECTION, True)]


async def test_aad_tokens_come_from_the_stored_sign_in(client: UserTokenClient, user_id: str,
                                                       teams_sso_token: str) -> None:
    await client.exchange_token(user_id, CONNECTION, CHANNEL, TokenExchangeRequest(token=teams_sso_token))

    tokens = await client.get_aad_tokens(user_id, CONNECTION, [GRAPH_RESOURCE], CHANNEL)

    claims = jwt.decode(tokens[GRAPH_RESOURCE].token, options={"verify_signature": False})
    assert (claims["aud"], claims["oid"]) == (GRAPH_RESOURCE, ADELE.id)


async def test_sign_in_resource_from_state(client: UserTokenClient, cloud: CloudProcess, user_id: str) -> None:
    resource = await client.get_sign_in_resource(CONNECTION, message(user_id))

    assert resource.sign_in_link.startswith(f"{cloud.settings['TOKEN_SERVICE_ENDPOINT']}/api/oauth/signin?")


async def test_the_sign_in_page_is_served_over_https_by_the_clouds_ca_only(client: UserTokenClient, user_id: str,
                                                                             ca_file: Path) -> None:
    answer = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))
    assert answer.sign_in_resource is not None
    link = answer.sign_in_resource.sign_in_link

    trust = ssl.create_default_context(cafile=str(ca_file))
    async with (aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session,
                session.get(link) as trusted):
        page_url = trusted.url
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(link)

    assert trusted.status == 200 and page_url.scheme == "https" and "/oauth2/v2.0/authorize" in page_url.path


@pytest.mark.browser
async def test_sign_in_page_shows_the_magic_code_in_a_browser(client: UserTokenClient, user_id: str,
                                                              ca_file: Path) -> None:
    from playwright.async_api import async_playwright

    answer = await client.get_token_or_sign_in_resource(CONNECTION, message(user_id))
    assert answer.sign_in_resource is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=chromium_trusting(ca_file))
        try:
            page = await browser.new_page()
            await page.goto(answer.sign_in_resource.sign_in_link)
            assert page.url.startswith("https://")
            await page.get_by_test_id("user-adele").click()
            await page.get_by_test_id("accept").click()
            code = (await page.get_by_test_id("magic-code").inner_text()).strip()
        finally:
            await browser.close()

    assert re.fullmatch(r"\d{6}", code)
    assert await client.get_user_token(user_id, CONNECTION, CHANNEL, magic_code=code)
