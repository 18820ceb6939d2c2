"""Bot Framework's OpenID metadata and channel-token keys, as login.botframework.com publishes them.

An agent checks the token on each incoming activity against these keys; the agent's cloud seam
(`BOTFRAMEWORK_JWKS_URL`) points here instead of the public endpoint.
"""

from __future__ import annotations

from aiohttp import web

from .cloud import Cloud
from .tokens import BOTFRAMEWORK_ISSUER

ENDORSEMENTS = ["msteams", "webchat", "emulator", "directline"]
"""The channels the real keys are endorsed for; the SDK may check a token's channel against them."""


def create_app(cloud: Cloud) -> web.Application:
    base = cloud.endpoints.botframework

    async def openid_configuration(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": BOTFRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{base}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def keys(_: web.Request) -> web.Response:
        key = cloud.issuer.botframework_key.jwk() | {"endorsements": ENDORSEMENTS}
        return web.json_response({"keys": [key]})

    app = web.Application()
    app.add_routes(
        [
            web.get("/v1/.well-known/openidconfiguration", openid_configuration),
            web.get("/v1/.well-known/keys", keys),
        ]
    )
    return app
