"""What the agent tells its operators: structured, redacted logs (`logs`) and OpenTelemetry traces.

Tracing is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Only then is `observability.tracing` imported, with the
OpenTelemetry SDK's tracer provider and the OTLP exporter. Until then our one span a command goes to the OpenTelemetry
API's no-op tracer, and the libraries' are not started at all: the Agents SDK's (`skip_agents_sdk_spans`), about
twenty a turn, whose wrapper around each span costs CPU even with the no-op tracer; and kiota's, the HTTP layer of
msgraph-sdk (`skip_graph_sdk_spans`), about nine a Graph request. Spans nobody exports are work for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from kiota_http.middleware import BaseMiddleware
from microsoft_agents.hosting.core.telemetry.core.base_span_wrapper import BaseSpanWrapper
from opentelemetry import trace

ENDPOINT_KEY = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACER_NAME = "graph_productivity_agent"


@dataclass
class GraphTally:
    """Graph requests made under one command span (its id), counted by `tracing.GraphCallCounter`."""

    span_id: int
    calls: int = 0
    duration_ms: float = 0.0


current_tally: ContextVar[GraphTally | None] = ContextVar("current_tally", default=None)


def setup_tracing(settings: Mapping[str, str]) -> Callable[[], None] | None:
    """Export spans over OTLP/HTTP when the endpoint is set; returns the shutdown that flushes them, else None (and
    the Agents SDK makes no spans)."""
    if not settings.get(ENDPOINT_KEY, "").strip():
        skip_agents_sdk_spans()
        skip_graph_sdk_spans()
        return None
    from observability.tracing import export_spans

    return export_spans(settings)


def skip_agents_sdk_spans() -> None:
    """Every span of the Agents SDK (1.9) is a `BaseSpanWrapper` used as a context manager (`with spans.AppOnTurn(…)
    as span:`): entered, it starts an OpenTelemetry span, times it and records metrics when it ends. With nothing to
    export it to, entering does nothing; `otel_span` stays None, which the SDK's code already allows for."""
    BaseSpanWrapper.__enter__ = _skipped_enter  # type: ignore[method-assign]
    BaseSpanWrapper.__exit__ = _skipped_exit  # type: ignore[method-assign]


def skip_graph_sdk_spans() -> None:
    """kiota (msgraph-sdk's HTTP layer) starts its spans through three helpers: the adapter's span for a request (which
    also decodes the URI template into its name), its steps' spans, and each middleware handler's. With nothing to
    export them to, each hands back the API's invalid span, which kiota's later calls on it (attributes, status, end,
    a child's context) already treat as a no-op; spans nobody exports would cost every Graph request CPU
    (`docs/performance.md`)."""
    HttpxRequestAdapter.start_tracing_span = _invalid_span  # type: ignore[method-assign]
    HttpxRequestAdapter._start_local_tracing_span = _invalid_span  # type: ignore[method-assign]
    BaseMiddleware._create_observability_span = _invalid_span  # type: ignore[method-assign]


def _invalid_span(*_: object) -> trace.Span:
    return trace.INVALID_SPAN


def _skipped_enter(self: BaseSpanWrapper) -> BaseSpanWrapper:
    return self


def _skipped_exit(self: BaseSpanWrapper, *_: object) -> None:
    return None


@contextmanager
def command_span(command: str, channel: str) -> Iterator[None]:
    """One span per command, `command.<name>`, ending with how many Graph requests it made and for how long."""
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"command.{command}",
                                      attributes={"command": command, "channel": channel}) as span:
        tally = GraphTally(span.get_span_context().span_id)
        reset = current_tally.set(tally)
        try:
            yield
        finally:
            current_tally.reset(reset)
            span.set_attributes({"graph.calls": tally.calls, "graph.duration_ms": round(tally.duration_ms, 1)})
