"""Every request each service of the local cloud answered, counted by service, method and path.

Tests read it to prove what the agent did NOT do (no token-service, Entra, Graph or reply call for a refused request),
and benchmarks to count calls per turn. A path is the route's, with its variable parts named
(`/teams/v3/conversations/{cid}/activities/{aid}`, `/{tenant}/oauth2/v2.0/token`), so thousands of turns make a handful
of rows; catch-all routes (Graph, the token service) keep the path as requested. Entra's token endpoint is also counted
per grant type and grantee: the user of an on-behalf-of assertion, else the user or client asking. The control API
(`/_localcloud/...`) is not counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import jwt
from aiohttp import web

TOKEN_PATH_SUFFIX = "/oauth2/v2.0/token"
WHOLE_PATH_PARAMETERS = frozenset({"path", "tail"})
"""Route parameters that stand for the whole path (catch-all routes): the path itself is kept."""


def route_path(request: web.Request) -> str:
    """The request's path with the variable parts of its route named."""
    path = request.path
    for name, value in request.match_info.items():
        if value and name not in WHOLE_PATH_PARAMETERS:
            path = path.replace(value, "{" + name + "}", 1)
    return path


def _grantee(form: Any) -> str:
    """Whom a token request is for: the user of an on-behalf-of assertion (read, never trusted: the token endpoint
    verifies it), else the user of a password grant or the client."""
    assertion = form.get("assertion")
    if assertion:
        try:
            return str(jwt.decode(assertion, options={"verify_signature": False}).get("oid", "(no user)"))
        except jwt.PyJWTError:
            return "(unreadable assertion)"
    return str(form.get("username") or form.get("client_id") or "(unknown client)")


class Traffic:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._grants: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def middleware(self, service: str) -> Any:
        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            if not request.path.startswith("/_localcloud/"):
                self._counts[(service, request.method, route_path(request))] += 1
                if service == "login" and request.method == "POST" and request.path.endswith(TOKEN_PATH_SUFFIX):
                    await self._count_grant(request)
            return await handler(request)

        return count

    async def _count_grant(self, request: web.Request) -> None:
        try:
            form = await request.post()  # aiohttp keeps the parsed form: the token endpoint reads the same one
        except ValueError:
            return  # the token endpoint answers the garbled body
        self._grants[str(form.get("grant_type") or "(none)")][_grantee(form)] += 1

    def snapshot(self) -> list[dict[str, Any]]:
        return [{"service": service, "method": method, "path": path, "count": count}
                for (service, method, path), count in sorted(self._counts.items())]

    def grants(self) -> dict[str, dict[str, int]]:
        """Entra token requests by grant type, then by grantee."""
        return {grant: dict(counts) for grant, counts in self._grants.items()}

    def routes(self) -> list[web.RouteDef]:
        """`GET /_localcloud/traffic`: the counts so far (`requests`, `entra_grants`); `DELETE` starts them afresh."""

        async def read(_: web.Request) -> web.Response:
            return web.json_response({"requests": self.snapshot(), "entra_grants": self.grants()})

        async def reset(_: web.Request) -> web.Response:
            self._counts.clear()
            self._grants.clear()
            return web.Response(status=204)

        return [web.get("/_localcloud/traffic", read), web.delete("/_localcloud/traffic", reset)]
