"""Where the services' spans go: to an OTLP/HTTP collector when the standard OpenTelemetry variables name one.

Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://otel-collector:4318) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the
exporter reads its other OTEL_EXPORTER_OTLP_* settings itself. The spans' resource is `service.name` `lhl-<service>`
unless OTEL_SERVICE_NAME (or `service.name` in OTEL_RESOURCE_ATTRIBUTES) names it otherwise, plus every attribute
of OTEL_RESOURCE_ATTRIBUTES (`deployment.environment=prod,service.namespace=lhl`). Without an endpoint no provider
is installed and spans cost nothing. The W3C trace context travels in every event either way (`traceparent`), so a
trace joins up in the collector across services, from the external publisher to the notification.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from runtime.records import Incoming

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
TRACE_HEADERS = frozenset({"traceparent", "tracestate"})


def configure_tracing(service_name: str) -> TracerProvider | None:
    """Install an exporting provider for this process, unless no endpoint is set or one is installed already."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return None
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return None  # the embedding process (a test, another app) chose its own
    provider = TracerProvider(resource=resource(service_name))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def resource(service_name: str) -> Resource:
    """The standard variables first: an operator's OTEL_SERVICE_NAME beats our default name, which beats none."""
    named_by_operator = OTELResourceDetector().detect().attributes.get(SERVICE_NAME)
    return Resource.create({} if named_by_operator else {SERVICE_NAME: f"lhl-{service_name}"})


async def flush(provider: TracerProvider | None, timeout_seconds: float = 5.0) -> None:
    """Send what is buffered before the process stops (the export is blocking HTTP, so off the event loop)."""
    if provider is not None:
        await asyncio.to_thread(provider.force_flush, int(timeout_seconds * 1000))


_NOT_RECORDING = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
"""The API's providers while none that records is installed (configure_tracing, or an embedding process's)."""


@contextmanager
def consume_span(tracer: trace.Tracer, record: Incoming) -> Iterator[None]:
    """A span per consumed record, continuing the trace its `traceparent` header names (a no-op without a provider):
    one span per poll's batch would put every record of it in the first one's trace."""
    carrier = {
        name: value.decode("utf-8", "replace")
        for name, value in record.headers
        if value is not None and name in TRACE_HEADERS
    }
    parent = propagate.extract(carrier)
    if isinstance(trace.get_tracer_provider(), _NOT_RECORDING):
        # What the no-op tracer's span would do, in less time (7 against 12.5 µs a record on this machine): make the
        # record's trace current, so the log lines and the derived events still carry its ids.
        token = context.attach(parent)
        try:
            yield
        finally:
            context.detach(token)
        return
    with tracer.start_as_current_span(f"{record.topic} process", context=parent, kind=trace.SpanKind.CONSUMER):
        yield
