"""Span export, imported only when tracing is switched on (see the package docstring).

The SDK's spans and ours are made through the OpenTelemetry API's global tracer provider, so installing the SDK's
provider here is all it takes to export both. Graph requests are counted from msgraph-sdk's own spans: kiota's HTTP
adapter makes one per request, named `send…_async - <URL template>`, and each that ends directly under a command span
adds to that command's tally (the middleware's `…Handler_send` spans and the like are steps of a request).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kiota_http.observability_options import ObservabilityOptions
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from observability import ENDPOINT_KEY, current_tally

DEFAULT_SERVICE_NAME = "graph-productivity-agent"
GRAPH_SCOPE = ObservabilityOptions.get_tracer_instrumentation_name()
GRAPH_REQUEST = re.compile(r"^send\w*_async - ")


class GraphCallCounter(SpanProcessor):
    """Adds each Graph request span that ends under the current command span to that command's tally.

    `on_end` runs in the task that ends the span, which is the command's (or a child task with a copy of its
    context), so the tally is the right one even when several commands run at once.
    """

    def on_end(self, span: ReadableSpan) -> None:
        tally = current_tally.get()
        scope = span.instrumentation_scope
        if (tally is None or span.parent is None or span.parent.span_id != tally.span_id or scope is None
                or scope.name != GRAPH_SCOPE or not GRAPH_REQUEST.match(span.name) or span.start_time is None
                or span.end_time is None):
            return
        tally.calls += 1
        tally.duration_ms += (span.end_time - span.start_time) / 1e6


def export_spans(settings: Mapping[str, str]) -> Callable[[], None]:
    """Install a tracer provider that exports in batches over OTLP/HTTP to the endpoint's `/v1/traces` (or to
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given); headers, timeout and the batch's pacing come from the standard
    `OTEL_EXPORTER_OTLP_*` and `OTEL_BSP_*` environment, read by the exporter itself."""
    endpoint = (settings.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
                or f"{settings[ENDPOINT_KEY].strip().rstrip('/')}/v1/traces")
    name = settings.get("OTEL_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(GraphCallCounter())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider.shutdown
