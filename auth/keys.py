"""The public keys that sign the tokens on incoming requests: fetched, cached, refreshed, and retried with backoff.

PyJWT checks the signatures; this only keeps the key sets (JWKS) at hand. Bot Framework publishes its channel keys with
`endorsements`, the channel ids each key may sign for, which a Bot Service activity's `channelId` must be among
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-authentication, "Connector to
bot": the signing keys and their endorsements). Keys roll over: a token with an unknown `kid` refreshes the set, at most
once per `REFRESH_FLOOR` so that a caller sending made-up key ids cannot make the agent fetch keys on every request.
Every request that needs a set while it is being downloaded waits for that one download, so a slow key endpoint costs
each of them one `FETCH_TIMEOUT` at most, not one per request queued before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import ssl
import time
from dataclasses import dataclass

import aiohttp
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from turn.retry import Backoff, retried

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600.0
"""Refetch a key set after a day even when every kid is known: Microsoft rolls its signing keys regularly."""
REFRESH_FLOOR = 300.0
"""At most one refresh per key set in this many seconds for an unknown kid."""
FETCH_TIMEOUT = 5.0
UNTIL_LOADED = Backoff(None, wait_initial=0.5, wait_max=30.0)
"""Start-up has no turn's deadline: as many attempts as it takes, from 0.5 s apart to 30 s."""


class KeysUnavailable(Exception):
    """No key set could be fetched yet: a request cannot be checked now (503), which is not the caller's fault."""


@dataclass(frozen=True)
class SigningKey:
    key: PyJWK
    endorsements: frozenset[str]
    """Channel ids the key may sign for (Bot Framework keys only; empty for Entra keys)."""


@dataclass
class _KeySet:
    keys: dict[str, SigningKey]
    fetched_at: float


class KeySets:
    """Key sets by JWKS URL, shared by every request of the process."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._sets: dict[str, _KeySet] = {}
        self._downloads: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def loaded(self, url: str) -> bool:
        return url in self._sets

    async def key(self, url: str, kid: str) -> SigningKey | None:
        """The key `kid` of the set at `url`, or None when the set has no such key; KeysUnavailable when the set has
        never been fetched and cannot be now."""
        current = self._sets.get(url)
        now = time.monotonic()
        if current is None or now - current.fetched_at > MAX_AGE or (
                kid not in current.keys and now - current.fetched_at > REFRESH_FLOOR):
            await self._refresh(url, current)
            current = self._sets.get(url)
        if current is None:
            raise KeysUnavailable(url)
        return current.keys.get(kid)

    async def keep_loaded(self, url: str) -> None:
        """Fetch `url` until it succeeds, backing off from 0.5 s to 30 s; run at start-up so `/readyz` can say when the
        agent can check tokens, and so a key endpoint that is down at start does not fail requests once it is back."""

        async def load() -> None:
            await self._refresh(url, None)
            if not self.loaded(url):
                raise KeysUnavailable(url)

        await retried(load, when=lambda error: isinstance(error, KeysUnavailable), left=lambda: math.inf,
                      backoff=UNTIL_LOADED)

    async def _refresh(self, url: str, seen: _KeySet | None) -> None:
        """Join the download of `url` in progress, else start one unless another request refreshed it meanwhile. The
        download is shielded: a request that gives up (its deadline, a closed connection) leaves it to the others."""
        download = self._downloads.get(url)
        if download is None:
            if self._sets.get(url) is not seen:
                return
            download = self._downloads[url] = asyncio.create_task(self._download(url, seen))
        await asyncio.shield(download)

    async def _download(self, url: str, seen: _KeySet | None) -> None:
        try:
            keys = await self._fetch(url)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            if seen is not None:  # keep serving with the keys we have
                seen.fetched_at = time.monotonic()
            log.warning("Could not fetch signing keys from %s: %s", url, type(error).__name__)
        else:
            self._sets[url] = _KeySet(keys, time.monotonic())
        finally:
            del self._downloads[url]

    async def _fetch(self, url: str) -> dict[str, SigningKey]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT),
                                                  connector=aiohttp.TCPConnector(ssl=self._ssl))
        async with self._session.get(url, allow_redirects=False) as response:
            response.raise_for_status()
            document = json.loads(await response.read())
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document")
        keys: dict[str, SigningKey] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            with contextlib.suppress(PyJWKError):
                endorsements = entry.get("endorsements")
                keys[entry["kid"]] = SigningKey(
                    PyJWK(entry), frozenset(e for e in endorsements if isinstance(e, str))
                    if isinstance(endorsements, list) else frozenset())
        return keys

    async def aclose(self) -> None:
        for download in list(self._downloads.values()):
            download.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
