"""Tokens the agent was just given, kept until shortly before they expire so a turn need not ask Entra again.

MSAL Python 1.39's `acquire_token_on_behalf_of` never reads its cache (the on-behalf-of flow "remains unchanged",
https://github.com/AzureAD/microsoft-authentication-library-for-python/issues/265), and the SDK calls it on every
Copilot Studio connector turn. MSAL.NET and MSAL Node first look for an unexpired token for the same assertion
(https://learn.microsoft.com/en-us/dotnet/api/microsoft.identity.client.iconfidentialclientapplication.acquiretokenonbehalfof;
msal-node's `OnBehalfOfClient` keys it by a hash of the assertion); `TokenCache` does that for `auth.connections`.
The key is a hash of the user's own token and the scopes, so one user's token can never serve another, and a new
token from Copilot Studio is a new exchange.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

EXPIRY_MARGIN = 300.0
"""A token is not handed out in its last five minutes, as MSAL refreshes its own: a turn and Graph's retries fit."""
DEFAULT_SIZE = 4096
"""Tokens kept at most (about 1.5 KB each); the least recently used goes first."""


def on_behalf_of_key(user_assertion: str, scopes: Iterable[str]) -> str:
    """Whose token for what: a digest of the assertion (the user's token) and the scopes, in any order."""
    material = "\n".join([user_assertion, *sorted(scopes)])
    return hashlib.sha256(material.encode()).hexdigest()


class TokenCache:
    """Tokens by key, each until `EXPIRY_MARGIN` before it expires, at most `size` of them."""

    def __init__(self, size: int = DEFAULT_SIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._tokens: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def get(self, key: str) -> str | None:
        found = self._tokens.get(key)
        if found is None:
            return None
        token, usable_until = found
        if self._clock() >= usable_until:
            del self._tokens[key]
            return None
        self._tokens.move_to_end(key)
        return token

    def put(self, key: str, token: str, expires_in: float | None) -> None:
        """Keep `token` for `expires_in` seconds from now less the margin; one without a lifetime is not kept."""
        if not token or expires_in is None or expires_in <= EXPIRY_MARGIN:
            return
        self._tokens[key] = (token, self._clock() + expires_in - EXPIRY_MARGIN)
        self._tokens.move_to_end(key)
        while len(self._tokens) > self._size:
            self._tokens.popitem(last=False)

    def __len__(self) -> int:
        return len(self._tokens)
