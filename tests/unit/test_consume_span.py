"""Without a tracer provider that records, a consumed record's trace is still the current one while it is handled:
its log lines and the events derived from it carry the publisher's trace."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from runtime.logging import trace_ids
from runtime.outbox import child_traceparent
from runtime.records import Incoming
from runtime.tracing import consume_span

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@pytest.fixture(autouse=True)
def no_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a service with no collector configured, whatever provider another test installed in this process."""
    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)


def record(*headers: tuple[str, bytes | None]) -> Incoming:
    return Incoming("lhl.meetings.ingress.v1", 0, 7, b"k", b"{}", headers)


def test_the_records_traceparent_is_current_while_it_is_handled_and_not_after() -> None:
    traced = record(
        ("content-type", b"application/cloudevents+json"), ("traceparent", f"00-{TRACE}-{PARENT}-01".encode())
    )

    with consume_span(trace.get_tracer("test"), traced):
        assert trace_ids() == {"trace_id": TRACE, "span_id": PARENT}
        assert child_traceparent(None) == f"00-{TRACE}-{PARENT}-01"

    assert trace_ids() == {}


def test_a_record_without_a_traceparent_leaves_no_trace_current() -> None:
    with consume_span(trace.get_tracer("test"), record(("traceparent", None))):
        assert trace_ids() == {}
        assert child_traceparent(None) is None


def test_an_error_while_handling_leaves_no_trace_current() -> None:
    traced = record(("traceparent", f"00-{TRACE}-{PARENT}-01".encode()))
    try:
        with consume_span(trace.get_tracer("test"), traced):
            raise LookupError("a handler's failure")
    except LookupError:
        pass
    assert trace_ids() == {}
