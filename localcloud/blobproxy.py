"""Azure Blob Storage with faults on demand: a pass-through proxy in front of Azurite.

    python -m localcloud.blobproxy --upstream http://127.0.0.1:10000 --port 10001

The agent's `AZURE_STORAGE_CONNECTION_STRING` names the proxy's address as its `BlobEndpoint`; every request goes to
Azurite unchanged (Shared Key signatures do not cover the host), unless a fault of service `blob` applies
(`localcloud.faults`, added through the proxy's own control API, `{proxy}/_localcloud/faults`). An injected error is
answered as Azure Storage answers: an XML `<Error>` with its code, also in `x-ms-error-code`
(https://learn.microsoft.com/rest/api/storageservices/common-rest-api-error-codes: 503 `ServerBusy`, 500
`InternalError`, 500 `OperationTimedOut`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from .faults import Fault, FaultRegistry

log = logging.getLogger("localcloud.blobproxy")

_CODES = {429: "TooManyRequests", 500: "InternalError", 503: "ServerBusy"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}
UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


def fault_reply(_: web.Request, fault: Fault) -> web.Response:
    assert fault.status is not None
    code = _CODES.get(fault.status, "InternalError")
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{escape(fault.message)}</Message></Error>")
    return web.Response(status=fault.status, body=body.encode(), content_type="application/xml",
                        headers={"x-ms-error-code": code, **fault.headers})


async def forward(request: web.Request) -> web.StreamResponse:
    """The request, as sent, to Azurite; its answer, as sent, back."""
    headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP}
    async with request.app[SESSION].request(
        request.method, request.app[UPSTREAM] + request.path_qs, headers=headers, data=await request.read() or None,
        allow_redirects=False,
    ) as upstream:
        body = await upstream.read()
        answer = {name: value for name, value in upstream.headers.items() if name.lower() not in _HOP_BY_HOP}
    return web.Response(status=upstream.status, headers=answer, body=body)


def create_app(upstream: str, faults: FaultRegistry | None = None) -> web.Application:
    registry = faults or FaultRegistry()
    app = web.Application(middlewares=[registry.middleware("blob", fault_reply)], client_max_size=64 * 1024 * 1024)
    app[UPSTREAM] = upstream.rstrip("/")

    async def session(app: web.Application) -> AsyncIterator[None]:
        # Nothing added to what the client signed: Shared Key covers Content-Type and the other standard headers.
        app[SESSION] = aiohttp.ClientSession(auto_decompress=False, skip_auto_headers=(
            "Accept", "Accept-Encoding", "Content-Type", "User-Agent"))
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session)
    app.router.add_routes(registry.routes())
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def serve(upstream: str, port: int) -> None:
    runner = web.AppRunner(create_app(upstream), access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    log.info("blob proxy on http://127.0.0.1:%d -> %s", port, upstream)
    try:
        await asyncio.Event().wait()  # until SIGTERM ends the process
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud.blobproxy",
                                     description="Azure Blob Storage with faults on demand, in front of Azurite.")
    parser.add_argument("--upstream", required=True, help="Azurite's blob endpoint (http://127.0.0.1:10000)")
    parser.add_argument("--port", type=int, required=True, help="the loopback port to listen on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve(args.upstream, args.port))


if __name__ == "__main__":
    main()
