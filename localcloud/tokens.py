"""Issuing and checking the tokens of the local cloud.

Tokens look exactly like the public cloud's: Entra v2 tokens carry `iss https://login.microsoftonline.com/{tid}/v2.0`
and Bot Service tokens `iss https://api.botframework.com`. Only where the keys are published differs, which is what
the agent's cloud seam (`BOTFRAMEWORK_JWKS_URL`, `ENTRA_JWKS_URL`) points at.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt

from .pki import SigningKey

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
ACCESS_TOKEN_LIFETIME = 3600
REUSE_MARGIN = 5 * 60
"""A held token is presented again until this close to its expiry (MSAL's margin for its own cache)."""
VERIFIED_KEPT = 10_000
"""At most this many verified tokens are remembered; then the memory starts afresh."""


def entra_issuer(tenant_id: str) -> str:
    return f"https://login.microsoftonline.com/{tenant_id}/v2.0"


class TokenRejected(Exception):
    """A presented token is not acceptable; `reason` is safe to show, `status` is 401 or 403."""

    def __init__(self, reason: str, status: int = 401, code: str = "InvalidAuthenticationToken") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.code = code


@dataclass
class TokenIssuer:
    """Signs Entra ID tokens with one key and Bot Service channel tokens with another, as the real services do."""

    tenant_id: str
    entra_key: SigningKey
    botframework_key: SigningKey
    _verified: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)
    """Tokens PyJWT accepted, by their exact text: clients present the same token again until it expires."""

    @property
    def issuer(self) -> str:
        return entra_issuer(self.tenant_id)

    def _sign(self, claims: dict[str, Any], key: SigningKey) -> str:
        """RS256 with the key object itself: handed a PEM, PyJWT would parse and validate the RSA key anew for every
        token, which costs hundreds of times the signature."""
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})

    def entra_token(
        self,
        *,
        audience: str,
        client_id: str,
        user: Any | None = None,
        scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        lifetime: int = ACCESS_TOKEN_LIFETIME,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A v2 access token. With `user` it is delegated (`scp`, `oid`, `upn`); without, app-only (`roles`)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "azp": client_id,
            "azpacr": "1",
            "tid": self.tenant_id,
            "ver": "2.0",
            "uti": uuid.uuid4().hex,
        }
        if user is not None:
            claims |= {
                "oid": user.id,
                "sub": user.id,
                "upn": user.user_principal_name,
                "preferred_username": user.user_principal_name,
                "name": user.display_name,
                "scp": " ".join(sorted(scopes)),
            }
        else:
            claims |= {"oid": client_id, "sub": client_id, "idtyp": "app", "roles": sorted(roles)}
        claims |= extra or {}
        return self._sign(claims, self.entra_key)

    def sign_entra(self, claims: dict[str, Any]) -> str:
        """Claims as given, signed with Entra's key (a managed identity's tokens)."""
        return self._sign(claims, self.entra_key)

    def id_token(self, *, client_id: str, user: Any, nonce: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "aud": client_id,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + ACCESS_TOKEN_LIFETIME,
            "tid": self.tenant_id,
            "oid": user.id,
            "sub": user.id,
            "name": user.display_name,
            "preferred_username": user.user_principal_name,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims, self.entra_key)

    def channel_token(self, *, app_id: str, service_url: str, lifetime: int = ACCESS_TOKEN_LIFETIME) -> str:
        """The token Bot Service puts on each activity it sends to an agent."""
        now = int(time.time())
        claims = {
            "aud": app_id,
            "iss": BOTFRAMEWORK_ISSUER,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "serviceurl": service_url,
        }
        return self._sign(claims, self.botframework_key)

    def verify_entra(self, token: str, audiences: Iterable[str]) -> dict[str, Any]:
        """Check signature, issuer, audience and expiry of an Entra token; raise `TokenRejected` if any fails.

        A token PyJWT accepted before is accepted again without parsing while it is unexpired and asked for with its
        audience; anything else (expired since, another audience) goes through PyJWT, which says what is wrong."""
        audiences = list(audiences)
        known = self._verified.get(token)
        if known is not None and known["exp"] > time.time() and known["aud"] in audiences:
            return dict(known)
        try:
            claims = jwt.decode(
                token,
                self.entra_key.public_key,
                algorithms=["RS256"],
                audience=audiences,
                issuer=self.issuer,
                leeway=0,
                options={"require": ["exp", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenRejected("Lifetime validation failed, the token is expired.") from error
        except jwt.InvalidAudienceError as error:
            raise TokenRejected("Invalid audience.") from error
        except jwt.PyJWTError as error:
            raise TokenRejected("Access token validation failure. Invalid audience or signature.") from error
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = claims
        return dict(claims)

    def verify_bearer(self, authorization: str | None, audiences: Iterable[str]) -> dict[str, Any]:
        """Verify an `Authorization: Bearer …` header value."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise TokenRejected("Access token is empty.")
        return self.verify_entra(authorization[7:].strip(), audiences)


class HeldTokens:
    """Tokens a caller keeps and presents again until they near expiry, as an OAuth client does with an access token
    (a channel its bearer, Copilot Studio the user's token): a new one per request would cost an RSA signature each.
    """

    def __init__(self) -> None:
        self._held: dict[Hashable, tuple[str, float]] = {}

    def get(self, key: Hashable, mint: Callable[[], str], lifetime: int = ACCESS_TOKEN_LIFETIME) -> str:
        """The token held for `key`, or a new one from `mint` (valid `lifetime` seconds) when it is about to expire."""
        now = time.time()
        held = self._held.get(key)
        if held is None or held[1] - now <= REUSE_MARGIN:
            held = self._held[key] = (mint(), now + lifetime)
        return held[0]
