"""Where the services' spans go: to an OTLP/HTTP collector when the standard OpenTelemetry variables name one.

Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://otel-collector:4318) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the
exporter reads its other OTEL_EXPORTER_OTLP_* settings itself. Without them no provider is installed and spans
cost nothing. The W3C trace context travels in every event either way (`traceparent`), so a trace joins up in
the collector across services, from the external publisher to the notification.
"""

from __future__ import annotations

import asyncio
import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure_tracing(service_name: str) -> TracerProvider | None:
    """Install an exporting provider for this process, unless no endpoint is set or one is installed already."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return None
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return None  # the embedding process (a test, another app) chose its own
    provider = TracerProvider(resource=Resource.create({"service.name": f"lhl-{service_name}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


async def flush(provider: TracerProvider | None, timeout_seconds: float = 5.0) -> None:
    """Send what is buffered before the process stops (the export is blocking HTTP, so off the event loop)."""
    if provider is not None:
        await asyncio.to_thread(provider.force_flush, int(timeout_seconds * 1000))
