"""The host's managed-identity endpoint, as Azure App Service and Container Apps serve it to the code they run.

A host with a managed identity sets `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` in its environment; azure-identity's
`ManagedIdentityCredential` and MSAL's `ManagedIdentityClient` read them and ask
`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…&client_id=…` with the header `X-IDENTITY-HEADER`
(https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference,
https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference). The local cloud writes
both variables, so the agent's secretless paths run here unchanged: Blob storage through Entra ID (`state.blob`) and
`AUTHTYPE=FederatedCredentials`, whose assertion is this identity's token for `api://AzureADTokenExchange`.

Tokens look like Entra's: for Azure Storage a v1 token (`iss https://sts.windows.net/{tid}/`, which Azurite checks),
for the federation audience a v2 one, whose issuer and subject the app registration's federated credential names.
"""

from __future__ import annotations

import hmac
import time
import uuid

from aiohttp import web

from .cloud import IDENTITY_TOKEN_PATH, Cloud
from .tenant import FEDERATION_AUDIENCE
from .tokens import ACCESS_TOKEN_LIFETIME

API_VERSION = "2019-08-01"


def _error(status: int, message: str) -> web.Response:
    """Not documented beyond the status: a JSON body with the reason, as App Service's endpoint answers."""
    return web.json_response({"statusCode": status, "message": message}, status=status)


def create_app(cloud: Cloud) -> web.Application:
    identity = cloud.directory.managed_identity

    async def token(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get("X-IDENTITY-HEADER", "").encode(),
                                   cloud.identity_header.encode()):
            return _error(401, "The X-IDENTITY-HEADER header is missing or wrong.")
        query = request.query
        if query.get("api-version") != API_VERSION:
            return _error(400, f"api-version must be {API_VERSION}.")
        resource = query.get("resource", "")
        if not resource:
            return _error(400, "resource is required.")
        # Only a user-assigned identity is attached, so it must be named (App Service has no default to fall back on).
        if query.get("client_id") != identity.client_id:
            return _error(400, "No managed identity with this client_id is assigned to the host.")
        now = int(time.time())
        claims = {"aud": resource, "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_LIFETIME,
                  "tid": cloud.tenant_id, "oid": identity.object_id, "sub": identity.object_id, "idtyp": "app",
                  "uti": uuid.uuid4().hex}
        if resource.rstrip("/") == FEDERATION_AUDIENCE:
            claims |= {"iss": cloud.issuer.issuer, "azp": identity.client_id, "ver": "2.0"}
        else:
            claims |= {"iss": f"https://sts.windows.net/{cloud.tenant_id}/", "appid": identity.client_id,
                       "ver": "1.0"}
        return web.json_response({
            "access_token": cloud.issuer.sign_entra(claims), "expires_on": str(claims["exp"]), "resource": resource,
            "token_type": "Bearer", "client_id": identity.client_id,
        })

    app = web.Application()
    app.add_routes([web.get(IDENTITY_TOKEN_PATH, token)])
    return app
