"""Operators' view of the agent: redacted JSON logs, `/readyz` through warm-up and a real SIGTERM drain, and
OpenTelemetry spans (the SDK's and one per command with its Graph calls) exported over OTLP/HTTP to a collector on
loopback."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.activity import Activity
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from pydantic import ValidationError

from bot import create_app
from localcloud.client import LocalCloudClient
from localcloud.launcher import ROOT, CloudProcess, free_port, start_agent
from observability.logs import (
    MASK,
    JsonFormatter,
    OutsideFaultFilter,
    RedactingFilter,
    UnreadableActivityFilter,
    keeps_personal_data,
    redact,
    secret_values,
)
from turn.faults import ServiceBusy

# Shaped like tokens and secrets, issued by nobody.
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGVsZSJ9.c2lnbmF0dXJlLW5vdC1yZWFs"
SECRET = "s3cr3t-Value~of.the.app"
SPAN_SECONDS = 15
"""How long an exported span may take to arrive (the agent's batches leave every 100 ms here)."""
WARM_UP_MS = 1500
"""Graph answers the warm-up's `/me` this late in the readiness test."""


@pytest.mark.parametrize("text, kept", [
    (f"token {JWT} rejected", "token *** rejected"),
    ("Authorization: Bearer abc.def-ghi", "Authorization: ***"),
    ("sent header Bearer opaque-token_123", "sent header Bearer ***"),
    ("{'Authorization': 'PoP xyz'}", "{'Authorization': '***'}"),
    ("grant_type=x&client_secret=hunter22&scope=y", "grant_type=x&client_secret=***&scope=y"),
    ('{"refresh_token": "0.AXyz"}', '{"refresh_token": "***"}'),
    ("AccountName=dev;AccountKey=Zm9vYmFy==;BlobEndpoint=x", "AccountName=dev;AccountKey=***;BlobEndpoint=x"),
], ids=["jwt", "authorization-header", "bearer", "authorization-in-a-dict", "client-secret-form", "json-refresh-token",
        "storage-account-key"])
def test_redact_masks_tokens_and_credentials(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_redact_masks_the_values_of_secret_settings_only() -> None:
    secrets = secret_values({"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": SECRET,
                             "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "app-id-0000", "FLAG": "true"})

    assert redact(f"app app-id-0000 secret {SECRET}.", secrets) == f"app app-id-0000 secret {MASK}."


def test_redact_masks_the_hosts_managed_identity_header() -> None:
    """IDENTITY_HEADER guards the host's identity endpoint against request forgery: whoever has it gets its tokens."""
    header = "kF9x0Qm2Lr7TzY4w"

    assert redact(f"header {header}", secret_values({"IDENTITY_HEADER": header})) == f"header {MASK}"


PERSONAL = [
    ("params: {'userId': '29:1Xa-b_c', 'connectionName': 'graph', 'state': 'eyJjb25uZWN0aW9uTmFtZSI6ICJncmFwaCJ9'}",
     "params: {'userId': '***', 'connectionName': 'graph', 'state': '***'}"),
    ("GET /api/usertoken/exchange?userId=29:1Xa&connectionName=graph&state=eyJhIjoxfQ==",
     "GET /api/usertoken/exchange?userId=***&connectionName=graph&state=***"),
    ("Getting user token for user_id: 29:1Xa-b, connection: graph",
     "Getting user token for user_id: ***, connection: graph"),
    ("ChannelAccount(id='29:1Xa', name='Adele Vance', aad_object_id='43d67fae-f1ee-5f45-ae87-7c8ba155f4a7')",
     "ChannelAccount(id='***', name='***', aad_object_id='***')"),
    ('{"from": {"aadObjectId": "43d67fae-f1ee", "name": "Megan Bowen"}}',
     '{"from": {"aadObjectId": "***", "name": "***"}}'),
    ("signed in as adele@contoso.onmicrosoft.com", "signed in as ***"),
    ("reply to 8:orgid:43d67fae-f1ee failed", "reply to *** failed"),
    ('"client_info": "eyJ1aWQiOiAiNDNkNjdmYWUifQ", "expires_in": 3600', '"client_info": "***", "expires_in": 3600'),
]


@pytest.mark.parametrize("text, kept", PERSONAL, ids=["sdk-params", "token-service-url", "oauth-flow",
                                                      "channel-account", "activity-json", "upn", "skype-id",
                                                      "msal-client-info"])
def test_redact_masks_personal_data_by_default(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_redact_keeps_the_words_around_personal_data() -> None:
    text = "Loading OAuth flow state from storage; invoke 'signin/verifyState' answered 404 for conversation a:1x"

    assert redact(text) == text


@pytest.mark.parametrize("text", [text for text, _ in PERSONAL])
def test_personal_data_stays_when_the_setting_asks_but_tokens_never_do(text: str) -> None:
    assert redact(f"{text} with {JWT}", personal_data=True) == f"{text} with {MASK}"


@pytest.mark.parametrize("value, keeps", [("true", True), ("TRUE ", True), ("false", False), ("", False),
                                          ("yes", False), (None, False)])
def test_only_log_personal_data_true_keeps_personal_data(value: str | None, keeps: bool) -> None:
    assert keeps_personal_data({} if value is None else {"LOG_PERSONAL_DATA": value}) is keeps


@pytest.fixture
def log_stream() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own with the agent's handler set-up, not propagating (the session's token check sees none
    of the fake tokens logged here)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(UnreadableActivityFilter())
    handler.addFilter(OutsideFaultFilter())
    handler.addFilter(RedactingFilter([SECRET]))
    logger = logging.getLogger(f"test.observability.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_a_log_line_is_one_json_object_with_time_level_logger_and_message(
    log_stream: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = log_stream

    logger.warning("Graph answered %d", 429)

    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and entry["logger"] == logger.name and entry["message"] == "Graph answered 429"
    assert entry["time"].endswith("+00:00")


def test_tokens_in_arguments_and_exceptions_never_reach_the_log(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream

    try:
        raise ValueError(f"could not exchange {JWT} with {SECRET}")
    except ValueError:
        logger.exception("turn failed for %s", f"Bearer {JWT}")

    written = stream.getvalue()
    assert JWT not in written and "eyJ" not in written and SECRET not in written
    assert "turn failed for Bearer ***" in json.loads(written)["message"]
    assert "ValueError: could not exchange *** with ***" in json.loads(written)["exception"]


def test_the_sdks_own_record_of_a_body_it_cannot_read_is_dropped_for_the_callers_one_line(
    log_stream: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = log_stream
    sdk = logging.getLogger(UnreadableActivityFilter.SDK_LOGGER)
    sdk.addHandler(logger.handlers[0])
    try:
        with pytest.raises(ValidationError):
            Activity.model_validate({"type": 5, "from": {"id": 3, "name": "Adele Vance"}, "conversation": {"id": ""}})
        sdk.error("Activity serialization failed")
    finally:
        sdk.removeHandler(logger.handlers[0])

    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == [
        "Activity serialization failed"]


def test_the_sdks_traceback_of_an_outside_fault_is_dropped_and_of_a_bug_kept(
    log_stream: tuple[logging.Logger, io.StringIO]
) -> None:
    """`AgentApplication` logs every error a turn raises with its traceback; a busy service is no bug of ours, and the
    turn's error handler says it in one line."""
    logger, stream = log_stream
    sdk = logging.getLogger(OutsideFaultFilter.SDK_LOGGER)
    sdk.addHandler(logger.handlers[0])
    try:
        for error in (ServiceBusy("Microsoft Graph", 30), RuntimeError("a bug")):
            try:
                raise error
            except Exception as raised:
                sdk.error(f"An error occurred in the AgentApplication: {raised}", exc_info=True)
    finally:
        sdk.removeHandler(logger.handlers[0])

    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == [
        "An error occurred in the AgentApplication: a bug"]


async def test_readyz_is_503_while_the_graph_warm_up_runs_then_200(cloud: CloudProcess) -> None:
    async with LocalCloudClient(cloud.url) as channels:
        await channels.add_fault("graph", "/v1.0/me", latency_ms=WARM_UP_MS, count=1, method="GET")
        try:
            async with TestClient(TestServer(create_app(cloud.settings), host="127.0.0.1")) as agent:
                response = await agent.get("/readyz")
                assert response.status == 503 and (await response.json()) == {"status": "not ready"}
                assert (await agent.get("/healthz")).status == 200  # liveness: serving while warming up

                assert (await ready_within(agent.get, WARM_UP_MS / 1000 + 10)) == 200
        finally:
            await channels.clear_faults()


async def ready_within(get: Callable[[str], Any], seconds: float) -> int:
    """The first `/readyz` status that is not 503, polled every 50 ms for at most `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            status = (await get("/readyz")).status
            if status != 503:
                return status
            await asyncio.sleep(0.05)


async def test_sigterm_makes_readyz_503_while_still_serving_for_the_drain_then_exits_0(
    cloud: CloudProcess, tmp_path: Path
) -> None:
    port = free_port()
    agent = start_agent(cloud.env_file, port, log_file=tmp_path / "agent.log", extra_env={"DRAIN_SECONDS": "2"})
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base) as http:
            async def get(path: str) -> aiohttp.ClientResponse:
                async with http.get(path) as response:
                    return response

            assert await ready_within(get, 30) == 200

            agent.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(0.2)

            assert (await get("/readyz")).status == 503
            assert (await get("/healthz")).status == 200  # the drain: still serving, the listener is open
            assert await asyncio.to_thread(agent.process.wait, 30) == 0
            assert time.monotonic() - signalled >= 2
    finally:
        agent.stop()


def test_without_an_otlp_endpoint_no_opentelemetry_sdk_or_exporter_is_imported() -> None:
    script = ("import sys, bot, observability; assert observability.setup_tracing({}) is None; "
              "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', "
              "'opentelemetry.exporter', 'observability.tracing'))))")

    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)

    assert loaded.stdout.strip() == "[]"


SPANS_STARTED = """
from opentelemetry import trace
import observability
started = []
original = trace.NoOpTracer.start_span
trace.NoOpTracer.start_span = lambda self, *a, **k: started.append(k.get("name", a[:1])) or original(self, *a, **k)
assert observability.setup_tracing({}) is None
"""
"""The start of a script that counts, in `started`, every span started without an OTLP endpoint."""


def test_without_an_otlp_endpoint_the_agents_sdk_starts_no_span_and_ours_still_work() -> None:
    script = SPANS_STARTED + """
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.telemetry.adapter.spans import AdapterProcess
with AdapterProcess(Activity(type="message", channel_id="msteams")) as span:
    span.share(activity=Activity(type="message", channel_id="msteams"))
    assert span.otel_span is None
with observability.command_span("me", "msteams"):
    pass
print(started)
"""
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)

    assert ran.stdout.strip() == "['command.me']"


def test_without_an_otlp_endpoint_a_graph_request_starts_no_span() -> None:
    script = SPANS_STARTED + """
import asyncio, httpx
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory
from graph.client import graph_middleware
answer = lambda request: httpx.Response(200, json={"displayName": "Someone"})
plain = httpx.AsyncClient(transport=httpx.MockTransport(answer))
client = GraphClientFactory.create_with_custom_middleware(graph_middleware(), client=plain)  # the agent's pipeline
adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=client)
async def me():
    request = GraphServiceClient(request_adapter=adapter).me.to_get_request_information()
    return await adapter.send_primitive_async(request, "bytes", {})
print(b"Someone" in asyncio.run(me()), started)
"""
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)

    assert ran.stdout.strip() == "True []"


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver: every span it was sent, as (scope name, name, attributes)."""

    url: str
    spans: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def span_named(self, name: str) -> dict[str, Any]:
        async with asyncio.timeout(SPAN_SECONDS):
            while True:
                found = [attributes for _, span_name, attributes in self.spans if span_name == name]
                if found:
                    return found[0]
                await asyncio.sleep(0.1)


def plain(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@pytest.fixture(scope="module")
async def collector() -> AsyncIterator[Collector]:
    port = free_port()
    received = Collector(f"http://127.0.0.1:{port}")

    async def traces(request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {item.key: plain(item.value) for item in span.attributes}
                    received.spans.append((scope.scope.name, span.name, attributes))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield received
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def traced_agent(cloud: CloudProcess, collector: Collector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    agent = start_agent(cloud.env_file, port, log_file=tmp_path_factory.mktemp("traced-agent") / "agent.log",
                        extra_env=otel)
    try:
        yield f"http://127.0.0.1:{port}/api/messages"
    finally:
        agent.stop()


async def test_a_command_is_one_span_with_its_channel_and_graph_calls(
    cloud: CloudProcess, collector: Collector, traced_agent: str
) -> None:
    async with LocalCloudClient(cloud.url) as client:
        result = await client.copilot("megan", "/me", agent_endpoint=traced_agent)
    assert result.status in (200, 202)

    span = await collector.span_named("command.me")

    assert span["command"] == "me" and span["channel"]
    assert span["graph.calls"] == 1  # the profile, photo, manager and presence in one $batch
    assert span["graph.duration_ms"] > 0


async def test_the_sdks_own_spans_are_exported_too(
    cloud: CloudProcess, collector: Collector, traced_agent: str
) -> None:
    async with LocalCloudClient(cloud.url) as client:
        await client.copilot("megan", "/help", agent_endpoint=traced_agent)

    await collector.span_named("agents.adapter.process")

    assert ("microsoft_agents", "agents.app.run") in {(scope, name) for scope, name, _ in collector.spans}


async def test_no_exported_span_carries_a_token(cloud: CloudProcess, collector: Collector, traced_agent: str) -> None:
    async with LocalCloudClient(cloud.url) as client:
        await client.copilot("megan", "/calendar", agent_endpoint=traced_agent)
    await collector.span_named("command.calendar")

    assert "eyJ" not in json.dumps(collector.spans, default=str)
