"""One trace id runs from the event an external system publishes to the notification delivered about it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts import topics
from contracts.envelope import CONTENT_TYPE
from contracts.events.meetings import ActionItem, ContactMeetingHeld, MeetingKind
from lhl.demo.mailbox import Mailbox
from runtime.clock import ManualClock
from services.meetings.app import create_app as create_meetings
from services.meetings.settings import MeetingsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for
from tests.support.signing import keys_for_tests


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans of this process, recorded by a real OpenTelemetry SDK provider."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


async def test_the_trace_of_a_published_meeting_reaches_the_delivered_notification(
    infra: Infra, run_id: str, bus: Bus, spans: InMemorySpanExporter
) -> None:
    clock = ManualClock(datetime(2022, 3, 11, tzinfo=UTC))
    mailbox = Mailbox()
    mailbox.start()
    meetings = create_meetings(settings_for(MeetingsSettings, infra, run_id), clock)
    notifications = create_notifications(
        settings_for(NotificationsSettings, infra, run_id, smtp_port=mailbox.port, delivery_poll_seconds=0.1), clock
    )
    the_trace = secrets.token_hex(16)
    traceparent = f"00-{the_trace}-{secrets.token_hex(8)}-01"
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    held = ContactMeetingHeld(
        meeting_id=meeting_id,
        agreement_id="leve-hele-livet-2019-2023",
        kind=MeetingKind.REGIONAL,
        region="vestland",
        held_on=date(2022, 3, 10),
        organiser="sf-vestland",
        participants=("sf-vestland",),
        action_items=(
            ActionItem(
                action_item_id=f"{meeting_id}-a1",
                text="Invitere kommunene",
                owner="ks-vestland",
                due_on=date(2022, 4, 20),
            ),
        ),
    )
    event = keys_for_tests().sign(
        cloud_event(held, source="/statsforvalteren/vestland/moter", region="vestland").model_copy(
            update={"traceparent": traceparent}
        )
    )
    try:
        async with running(meetings), running(notifications):
            await bus.publish_raw(
                topics.MEETINGS_INGRESS,
                event.to_bytes(),
                key=event.partitionkey,
                headers={"content-type": CONTENT_TYPE, "traceparent": traceparent},
            )
            derived = await bus.events(
                topics.MEETINGS_EVENTS, lambda es: any(e["type"].endswith("action-item.assigned.v1") for e in es)
            )
            outcomes = await bus.events(
                topics.NOTIFICATIONS_EVENTS,
                lambda es: any(e["data"]["about_event_type"].endswith("action-item.assigned.v1") for e in es),
            )
    finally:
        mailbox.stop()
    assigned = next(e for e in derived if e["type"].endswith("action-item.assigned.v1"))
    delivered = next(e for e in outcomes if e["data"]["about_event_type"].endswith("action-item.assigned.v1"))
    assert delivered["type"] == "no.levehelelivet.notification.delivered.v1"
    assert trace_id(assigned["traceparent"]) == the_trace
    assert trace_id(delivered["traceparent"]) == the_trace
    # The derived event is a child of the meetings service's consume span, not a copy of the publisher's span.
    assert assigned["traceparent"] != traceparent
    consumed = {span.name for span in spans.get_finished_spans() if format(span.context.trace_id, "032x") == the_trace}
    assert any(topics.MEETINGS_INGRESS in name for name in consumed), consumed
    assert any(topics.MEETINGS_EVENTS in name for name in consumed), consumed
    assert mailbox.counts() == [("leve-hele-livet@ks-vestland.lhl.invalid", 1)]
