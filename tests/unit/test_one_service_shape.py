"""Every service is one ServiceDefinition handed to the same wiring: started and stopped by the same lifecycle, the
audit's batch consumer included, and each reads exactly the topics its definition names."""

from __future__ import annotations

from contracts import topics
from lhl import services
from runtime.lifecycle import ServiceRuntime
from runtime.wiring import runtime_of


def test_every_service_starts_and_stops_through_the_same_lifecycle() -> None:
    for service in services.SERVICES:
        runtime = runtime_of(services.create_app(service))
        assert isinstance(runtime, ServiceRuntime), service
        assert runtime.definition.name == service


def test_the_audit_reads_every_topic_in_batches_and_the_others_read_what_they_handle() -> None:
    audit = runtime_of(services.create_app("audit")).definition
    assert audit.batch is not None
    assert sorted(audit.consumed_topics()) == sorted(topics.ALL_TOPICS)
    meetings = runtime_of(services.create_app("meetings")).definition
    assert topics.EVALUATIONS_EVENTS in meetings.consumed_topics()
    assert meetings.batch is None
