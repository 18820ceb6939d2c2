"""What replaced a private name of the SDK gives the SDK's results: MSAL's authority and region (`auth.connections`
`msal_authority`, `msal_azure_region` against `MsalAuth._resolve_authority` and `_resolve_azure_region`) and the
aiohttp response (`_aiohttp_response` against `CloudAdapter._to_aiohttp_response`). Only these tests read those names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.http import HttpResponse

from auth.connections import _aiohttp_response, msal_authority, msal_azure_region

TENANT = "0c7a5c1e-38f4-4d3a-9a52-a6f1f6a2b0d1"
OTHER = "9F1B7C2A-1D3E-4F5A-8B6C-7D8E9F0A1B2C"
SETTINGS: list[dict[str, Any]] = [
    {"TENANTID": TENANT},
    {"TENANTID": "common"},
    {"TENANTID": "Common"},
    {"TENANTID": "contoso.onmicrosoft.com"},
    {},
    {"TENANTID": TENANT, "AUTHORITY": f"https://login.microsoftonline.com/{TENANT}"},
    {"TENANTID": TENANT, "AUTHORITY": f"https://login.microsoftonline.us/{TENANT}/v2.0"},
    {"TENANTID": TENANT, "AUTHORITY": "https://login.microsoftonline.com/common"},
    {"TENANTID": "common", "AUTHORITY": "https://login.microsoftonline.com/common"},
    {"TENANTID": "common", "AUTHORITY": "https://login.partner.microsoftonline.cn/organizations"},
    {"TENANTID": TENANT, "AUTHORITY": "https://login.microsoftonline.com/contoso.onmicrosoft.com"},
    {"TENANTID": TENANT, "AUTHORITY": f"https://127.0.0.1:8443/{TENANT}"},
    {"TENANTID": TENANT, "AUTHORITY": f"https://login.microsoftonline.com/{TENANT}X"},
    {"AUTHORITY": f"https://login.microsoftonline.com/{TENANT}"},
    {"TENANTID": TENANT, "AUTHORITYENDPOINT": "https://login.microsoftonline.com/common/"},
    {"TENANTID": TENANT, "AZUREREGION": "westus"},
    {"TENANTID": TENANT, "AZUREREGION": " westus "},
    {"TENANTID": TENANT, "AZUREREGION": "   "},
    {"TENANTID": TENANT, "AZUREREGION": ""},
    {"TENANTID": TENANT, "REGIONALAUTHORITY": "eastus2"},
    {"TENANTID": TENANT, "AZUREREGION": "tryautodetect", "REGIONALAUTHORITY": "eastus2"},
]
REQUESTED = [None, "", OTHER, "common", "contoso.onmicrosoft.com"]


def _outcome(resolve: Callable[..., str | None], *args: object) -> object:
    """What a resolver returns, or the type and message of what it raises."""
    try:
        return resolve(*args)
    except ValueError as error:
        return (type(error), str(error))


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda settings: " ".join(f"{k}={v!r}" for k, v in
                                                                         settings.items()) or "no tenant")
def test_the_authority_and_region_are_the_sdks(settings: dict[str, Any]) -> None:
    config = AgentAuthConfiguration(CLIENTID="00000000-0000-0000-0000-000000000001", CLIENTSECRET="secret",
                                    **settings)

    for tenant_id in REQUESTED:
        sdks = _outcome(MsalAuth._resolve_authority, config, tenant_id)
        assert _outcome(msal_authority, config, tenant_id) == sdks, tenant_id
    assert msal_azure_region(config) == MsalAuth._resolve_azure_region(config)


def test_the_table_reaches_every_branch() -> None:
    """The cases above are not all alike: they cover a refusal, a region, and each way the tenant is placed."""
    configs = [AgentAuthConfiguration(CLIENTID="id", CLIENTSECRET="secret", **settings) for settings in SETTINGS]
    results = {str(_outcome(msal_authority, config, tenant_id)) for config in configs for tenant_id in REQUESTED}

    assert any("TENANT_ID is not set" in result for result in results)
    assert f"https://login.microsoftonline.us/{OTHER}/v2.0" in results
    assert "https://login.microsoftonline.com/common" in results
    assert f"https://127.0.0.1:8443/{OTHER}" in results
    assert {msal_azure_region(config) for config in configs} == {None, "westus", " westus ", "eastus2", "tryautodetect"}


RESPONSES = [
    HttpResponse(200, body={"id": "1", "text": "\u00e9t\u00e9"}),
    HttpResponse(200, body=[1, "two"], headers={"X-Ms-Conversation-Id": "a:1"}),
    HttpResponse(200, body=""),
    HttpResponse(400, body={"error": "Bad Request"}),
    HttpResponse(200),
    HttpResponse(202, content_type=None),
    HttpResponse(204, headers={"Retry-After": "3"}, content_type=None),
    HttpResponse(200, headers={"Content-Type": "text/plain"}),
]


def _sent(make: Callable[[HttpResponse], web.Response], response: HttpResponse) -> object:
    """What goes on the wire: status, headers (content type included) and body, or what building it raised."""
    try:
        built = make(response)
    except ValueError as error:
        return (type(error), str(error))
    return built.status, dict(built.headers), built.content_type, built.charset, built.body


@pytest.mark.parametrize("response", RESPONSES, ids=repr)
def test_the_aiohttp_response_is_the_sdks(response: HttpResponse) -> None:
    assert _sent(_aiohttp_response, response) == _sent(CloudAdapter._to_aiohttp_response, response)
