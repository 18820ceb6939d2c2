"""Faults on demand: make a local service answer a path with an error status, a `Retry-After`, late, or not at all
(the connection reset, before or after the request took effect).

Tests and benchmarks use this to show how the agent behaves when Microsoft 365 is slow or throttling.
It exists only in the local cloud; nothing in the agent knows about it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import re
import socket
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

SERVICES = ("login", "botframework", "tokenservice", "graph", "channels", "blob")
STREAM_TYPES = ("informative", "streaming", "final")
"""`blob` is Azure Blob Storage behind `localcloud.blobproxy`, which keeps a registry of its own."""


@dataclass
class Fault:
    service: str
    path: str
    """An exact path or a glob (`/v1.0/me/*`), matched against the path without its query."""
    status: int | None = None
    """The error status to answer with; None only adds latency and then serves the request normally."""
    retry_after: int | None = None
    latency_ms: int = 0
    count: int | None = None
    """How many requests it applies to (at least one); None for every one until cleared."""
    method: str | None = None
    reset: bool = False
    """Reset the connection (after the latency) instead of answering: a whole request's fault, not a `$batch` item's."""
    lose_answer: bool = False
    """Serve the request, then reset the connection instead of sending the answer: the request took effect, and the
    caller cannot tell. A whole request's fault, as `reset` is."""
    stream_type: str | None = None
    """On the channels: only a streaming request whose `streaminfo` entity has this `streamType` (`informative`,
    `streaming`, `final`)."""
    id: int = field(default=0)

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        service = data.get("service", "graph")
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must be a string that starts with '/'")
        status = _optional_int(data, "status")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        method = data.get("method")
        if method is not None and (not isinstance(method, str) or not _METHOD.fullmatch(method)):
            raise ValueError("method must be an HTTP method name, e.g. GET")
        reset = data.get("reset", False)
        if not isinstance(reset, bool):
            raise ValueError("reset must be true or false")
        lose_answer = data.get("lose_answer", False)
        if not isinstance(lose_answer, bool):
            raise ValueError("lose_answer must be true or false")
        if sum((reset, lose_answer, status is not None)) > 1:
            raise ValueError("a fault resets the connection, loses the answer or answers with a status: one of them")
        stream_type = data.get("stream_type")
        if stream_type is not None and (service != "channels" or stream_type not in STREAM_TYPES):
            raise ValueError(f"stream_type is for the channels, one of {', '.join(STREAM_TYPES)}")
        count = _optional_int(data, "count")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (leave it out for every request)")
        fault = cls(
            service=service,
            path=path,
            status=status,
            retry_after=_optional_int(data, "retry_after"),
            latency_ms=_optional_int(data, "latency_ms") or 0,
            count=count,
            method=method,
            reset=reset,
            lose_answer=lose_answer,
            stream_type=stream_type,
        )
        if fault.status is None and not fault.latency_ms and not fault.reset and not fault.lose_answer:
            raise ValueError("a fault needs a status, a latency_ms, a reset, a lose_answer, or a latency with one of "
                             "the others")
        return fault

    def matches(self, service: str, method: str, path: str, stream_type: str | None) -> bool:
        return (
            self.service == service
            and (self.method is None or self.method.upper() == method.upper())
            and fnmatch.fnmatchcase(path, self.path)
            and (self.stream_type is None or self.stream_type == stream_type)
        )

    @property
    def message(self) -> str:
        return f"Injected by the local cloud (fault {self.id})."

    @property
    def headers(self) -> dict[str, str]:
        """`Retry-After`, when the fault has one; every service's error answer carries it."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}

    async def delay(self) -> None:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)


_METHOD = re.compile(r"[A-Za-z]+")
FaultReply = Callable[[web.Request, Fault], web.StreamResponse]
"""Builds a fault's error answer in the shape of the service that raised it."""


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


class FaultRegistry:
    """The faults in force, shared by every service of one cloud."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        fault.id = next(self._ids)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[Fault]:
        return list(self._faults)

    def take(self, service: str, method: str, path: str, stream_type: str | None = None) -> Fault | None:
        """The first fault that applies to this request, counting it as used."""
        for fault in self._faults:
            if fault.matches(service, method, path, stream_type):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def middleware(self, service: str, reply: FaultReply) -> Any:
        """Applies the faults of `service` before its own handlers; `reply` builds the error in its shape."""

        @web.middleware
        async def fault_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
            if not request.path.startswith("/_localcloud/"):
                stream_type = await _stream_type(request) if any(f.stream_type for f in self._faults) else None
                fault = self.take(service, request.method, request.path, stream_type)
                if fault is not None:
                    await fault.delay()
                    if fault.reset:
                        return await reset_connection(request)
                    if fault.status is not None:
                        return reply(request, fault)
                    if fault.lose_answer:
                        await handler(request)
                        return await reset_connection(request)
            return await handler(request)

        return fault_middleware

    def routes(self) -> list[web.RouteDef]:
        """The control API: `POST` adds a fault (201 with its id), `GET` lists them, `DELETE` clears them all."""

        async def add(request: web.Request) -> web.Response:
            try:
                fault = Fault.from_json(await request.json())
            except (ValueError, UnicodeDecodeError) as error:  # json.JSONDecodeError is a ValueError
                return web.json_response({"error": str(error)}, status=400)
            return web.json_response(asdict(self.add(fault)), status=201)

        async def list_faults(_: web.Request) -> web.Response:
            return web.json_response([asdict(fault) for fault in self.list()])

        async def clear(_: web.Request) -> web.Response:
            self.clear()
            return web.Response(status=204)

        return [
            web.post("/_localcloud/faults", add),
            web.get("/_localcloud/faults", list_faults),
            web.delete("/_localcloud/faults", clear),
        ]


async def _stream_type(request: web.Request) -> str | None:
    """The `streamType` of a streaming request's `streaminfo` entity (`streaming` when left out, as Teams reads it);
    None for any other request. aiohttp keeps the body read, for the handler."""
    if not request.can_read_body:
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    entities = body.get("entities") if isinstance(body, dict) else None
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict) and str(entity.get("type", "")).lower() == "streaminfo":
            return str(entity.get("streamType", "streaming"))
    return None


async def reset_connection(request: web.Request) -> web.Response:
    """Drop the client's connection with a TCP reset (no answer, as a crashed or overloaded server does)."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=499)  # never written: the connection is gone


def plain_reply(_: web.Request, fault: Fault) -> web.Response:
    """For a service with no error body of its own (Bot Framework's key endpoints): the bare status."""
    assert fault.status is not None
    return web.Response(status=fault.status, headers=fault.headers)
