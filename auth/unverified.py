"""A JWT's claims read without checking its signature: only to choose how to check the token (which key set, which
issuer), or to key something that is checked again anyway (a hint Graph re-checks); never to decide who a caller is."""

from __future__ import annotations

import base64
import json
from typing import Any


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of `token`, or None when it is not a JWT (three dot-separated parts) whose claims are a JSON object.
    Read by hand: PyJWT's unverified decode parses the header too and takes several times as long."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):  # binascii.Error, JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return claims if isinstance(claims, dict) else None
