"""The agent's entry point: wires the SDK, the cloud seam and the skills into an aiohttp application.

    python bot.py [--env-file PATH]            serve on HOST:PORT (default localhost:3978)
    python bot.py doctor [--env-file PATH]     check the configuration offline: each problem, its key and its fix
    python bot.py doctor --explain             the same, then docs/deploy.md's checklist, step by step
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from aiohttp import web
from dotenv import load_dotenv
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.hosting.aiohttp import start_agent_process
from microsoft_agents.hosting.core import AgentApplication, Authorization, TurnState

import skills
from auth.cloud import cloud_from_settings
from auth.connections import build_adapter, build_connections
from auth.incoming import ADMITTED_ACTIVITY, authenticated, caller_rules
from auth.sign_in import AgentAuthorization
from cards.sign_in import sign_in_activity
from graph.client import GraphClient, SharedHttp
from hosting import settings as hosting_settings
from hosting.heap import freeze_start_up_heap, map_large_blocks
from hosting.stream import is_stream_request, stream_agent_process
from observability import setup_tracing
from observability.logs import setup_logging
from skills.catalog import COMMANDS, CommandRecord
from skills.commands import Services
from skills.manifest import manifest_handler as skill_manifest
from state import build_storage

log = logging.getLogger("agent")

AGENT_APP_KEY = web.AppKey("agent_app", AgentApplication[TurnState])
READY_KEY = web.AppKey("ready", asyncio.Event)
"""Set once the Graph warm-up finished, cleared when SIGTERM comes: what `/readyz` answers."""
SHUTDOWN_SECONDS = 20.0
"""Then stop accepting and let in-flight turns finish for at most this long."""


def create_app(settings: Mapping[str, str], commands: Sequence[CommandRecord] = COMMANDS) -> web.Application:
    """Build the whole agent from `settings` (the environment, or a test's own) with `commands`. No network happens
    here."""
    cloud = cloud_from_settings(settings)
    config = load_configuration_from_env(settings)
    connections = build_connections(config, cloud)
    adapter = build_adapter(connections, cloud, hosting_settings.turn_seconds(settings))
    storage = build_storage(settings)
    authorization = AgentAuthorization(storage, connections, sign_in_card=sign_in_activity, **config)
    # The SDK's own sign-in, given no handlers, never intercepts a turn: `authorization` holds the conversation.
    agent = AgentApplication[TurnState](storage=storage, authorization=Authorization(storage, connections),
                                          **config)
    authorization.attach(agent)
    graph = GraphClient(cloud, SharedHttp(cloud))
    skills.register_all(agent, Services(graph=graph, auth=authorization), commands)
    identity = connections.get_default_connection_configuration()
    app_id = identity.CLIENT_ID or ""
    callers = caller_rules(settings, cloud, app_id, identity.TENANT_ID or "")

    async def messages(request: web.Request) -> web.StreamResponse:
        process = stream_agent_process if is_stream_request(request[ADMITTED_ACTIVITY]) else start_agent_process
        return await process(request, agent, adapter) or web.Response(status=202)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        """Not ready until warmed up and the signing keys are loaded, from SIGTERM on, and while storage fails (both
        are cheap to ask)."""
        if not (app[READY_KEY].is_set() and callers.ready()):
            return web.json_response({"status": "not ready"}, status=503)
        if not await storage.ready():
            return web.json_response({"status": "not ready", "storage": "unavailable"}, status=503)
        return web.json_response({"status": "ready"})

    async def warm_up_in_background(_: web.Application) -> AsyncIterator[None]:
        """The listener opens meanwhile (aiohttp runs start-up hooks before it binds), so `/readyz` can say 503
        while the imports, the TLS handshake to Graph, the agent's own token and the word list run; none raises."""

        async def warm_up() -> None:
            await asyncio.gather(graph.start(), adapter.warm_up(), skills.warm_up())
            freeze_start_up_heap()
            app[READY_KEY].set()

        tasks = [asyncio.create_task(warm_up()),
                 *(asyncio.create_task(callers.keys.keep_loaded(url)) for url in callers.key_urls)]
        yield
        for task in tasks:
            task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks)
        await callers.keys.aclose()

    app = web.Application()
    app[AGENT_APP_KEY] = agent
    app[READY_KEY] = asyncio.Event()
    app.router.add_post("/api/messages", authenticated(messages, callers))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/manifest.json", skill_manifest(settings, app_id, commands))
    app.cleanup_ctx.append(warm_up_in_background)
    app.on_cleanup.append(lambda _: graph.aclose())
    app.on_cleanup.append(lambda _: adapter.aclose())
    app.on_cleanup.append(lambda _: storage.close())
    return app


async def serve(app: web.Application, host: str, port: int, drain_seconds: float) -> None:
    """Serve until SIGTERM or SIGINT. SIGTERM first drains: `/readyz` answers 503 while everything else is still
    served for `drain_seconds`; then aiohttp closes the listener and lets in-flight turns finish. aiohttp's own
    signal handling (`run_app`) would close the listener at once, so nobody could ever see the 503."""
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("Serving on http://%s:%d", host, port)
        loop = asyncio.get_running_loop()
        stopping: asyncio.Future[signal.Signals] = loop.create_future()

        def stop(signum: signal.Signals) -> None:
            if not stopping.done():
                stopping.set_result(signum)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        received = await stopping
        app[READY_KEY].clear()
        if received == signal.SIGTERM and drain_seconds:  # Ctrl-C at a terminal needs no drain
            log.info("SIGTERM: not ready; still serving for %g s before shutting down", drain_seconds)
            await asyncio.sleep(drain_seconds)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bot.py", description="The Graph productivity agent.")
    parser.add_argument("command", nargs="?", choices=["doctor"],
                        help="doctor: check the configuration offline and exit (0 clean, 1 with findings)")
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="dotenv file to load (default .env)")
    parser.add_argument("--explain", action="store_true",
                        help="with doctor: also the deployment checklist, each step linked into docs/deploy.md")
    args = parser.parse_args(argv)
    if args.explain and args.command != "doctor":
        parser.error("--explain goes with doctor")
    if args.command == "doctor":
        from diagnostics.doctor import run

        return run(args.env_file, os.environ, sys.stdout, explain=args.explain)
    load_dotenv(args.env_file)
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning)  # the SDK keys its state by strings
    setup_logging(os.environ)
    stop_tracing = setup_tracing(os.environ)
    try:
        port, drain = hosting_settings.port(os.environ), hosting_settings.drain_seconds(os.environ)
        hosting_settings.turn_seconds(os.environ)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    map_large_blocks()
    app = create_app(os.environ)
    asyncio.run(serve(app, os.environ.get("HOST", "localhost"), port, drain))
    if stop_tracing:
        stop_tracing()  # flushes the spans still batched
    return 0


if __name__ == "__main__":
    sys.exit(main())
