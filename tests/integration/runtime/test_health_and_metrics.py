"""Operators can ask a running service whether it is alive and ready, and scrape its metrics."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import httpx

from contracts import topics
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.integration.meetings.helpers import wait_until
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, or 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_health_endpoints_and_metrics_reflect_what_the_service_did(infra: Infra, run_id: str, bus: Bus) -> None:
    app = create_app(
        settings_for(MeetingsSettings, infra, run_id, http_port=0), clock=ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    )
    meeting = national_meeting_held()
    async with running(app) as runtime, httpx.AsyncClient() as client:
        assert runtime.http is not None
        base = f"http://127.0.0.1:{runtime.http.bound_port}"
        live = await client.get(f"{base}/health/live")
        ready = await client.get(f"{base}/health/ready")
        event = cloud_event(meeting, source=NATIONAL_SECRETARIAT)
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        await bus.publish_raw(topics.MEETINGS_INGRESS, b"{broken")
        await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
        seen = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == event.id for e in es))
        derived = {e["id"] for e in seen if e["causationid"] == event.id}

        async def published() -> float:
            return metric((await client.get(f"{base}/metrics")).text, "lhl_outbox_published_total")

        # Counted once the relay's pass committed, a moment after the broker took the rows: the dead letter too.
        await wait_until(published, lambda count: count >= len(derived) + 1)
        gc.collect(0)  # a young collection while the service runs, whatever the test process's thresholds
        plain = await client.get(f"{base}/metrics")
        scraped = plain.text
        # What Prometheus sends: OpenMetrics first, the text format as the fallback.
        openmetrics = await client.get(
            f"{base}/metrics",
            headers={"Accept": "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"},
        )
        missing = await client.get(f"{base}/nowhere")
    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": True, "migrations": True, "broker": True}}
    assert metric(scraped, "lhl_events_total", event_type="no.levehelelivet.meeting.held.v1", outcome="processed") == 1
    assert metric(scraped, "lhl_events_dead_lettered_total", reason="not_json") == 1
    assert metric(scraped, "lhl_handler_duration_seconds_count", event_type="no.levehelelivet.meeting.held.v1") == 1
    assert metric(scraped, "lhl_events_consumed_total", topic=bus.topic(topics.MEETINGS_INGRESS)) == 2
    assert "lhl_outbox_backlog{" in scraped
    assert "lhl_outbox_oldest_age_seconds{" in scraped
    assert "lhl_timers_pending{" in scraped
    assert "lhl_consumer_lag{" in scraped
    assert metric(scraped, "lhl_gc_pause_seconds_count", generation="0") > 0  # that collection's pause at least
    assert missing.status_code == 404
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert openmetrics.text.endswith("# EOF\n")
    assert metric(openmetrics.text, "lhl_events_total", outcome="processed") == 1
    assert "process_cpu_seconds_total " in scraped
    assert "process_start_time_seconds " in scraped
