"""Every request each service of the local cloud answered, counted by service, method and path.

Tests read it to prove what the agent did NOT do (no token-service, Entra, Graph or reply call for a refused request),
and benchmarks to count calls per turn. The control API (`/_localcloud/...`) is not counted.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web


class Traffic:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def middleware(self, service: str) -> Any:
        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            if not request.path.startswith("/_localcloud/"):
                self._counts[(service, request.method, request.path)] += 1
            return await handler(request)

        return count

    def snapshot(self) -> list[dict[str, Any]]:
        return [{"service": service, "method": method, "path": path, "count": count}
                for (service, method, path), count in sorted(self._counts.items())]

    def routes(self) -> list[web.RouteDef]:
        """`GET /_localcloud/traffic`: the counts so far; `DELETE` starts them afresh."""

        async def read(_: web.Request) -> web.Response:
            return web.json_response({"requests": self.snapshot()})

        async def reset(_: web.Request) -> web.Response:
            self._counts.clear()
            return web.Response(status=204)

        return [web.get("/_localcloud/traffic", read), web.delete("/_localcloud/traffic", reset)]
