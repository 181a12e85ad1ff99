"""A record's event type labels the metrics only when the catalogue names it: a sender who makes up a new type for
every record must not grow the registry, and every scrape, without bound."""

from __future__ import annotations

from prometheus_client import generate_latest

from contracts import catalog
from contracts.events.meetings import ContactMeetingHeld
from runtime.observability import Metrics

HELD = catalog.of(ContactMeetingHeld).name
TOPIC = "lhl.meetings.ingress.v1"


def series(metrics: Metrics, name: str) -> list[dict[str, str]]:
    return [labels for labels, _ in values(metrics, name)]


def test_made_up_types_are_counted_under_one_unknown_label() -> None:
    metrics = Metrics("meetings")
    for n in range(1000):
        metrics.observe_record(TOPIC, f"com.example.made-up-{n}.v1", "dead_lettered", "unknown_type", 0.001)
    metrics.observe_record(TOPIC, None, "dead_lettered", "not_json", 0.001)

    assert series(metrics, "lhl_events_total") == [
        {"service": "meetings", "event_type": "unknown", "outcome": "dead_lettered"}
    ]
    assert [s["event_type"] for s in series(metrics, "lhl_handler_duration_seconds_count")] == ["unknown"]
    assert sorted((s["event_type"], s["reason"]) for s in series(metrics, "lhl_events_dead_lettered_total")) == [
        ("unknown", "not_json"),
        ("unknown", "unknown_type"),
    ]
    assert b"made-up" not in generate_latest(metrics.registry)


def test_a_catalogue_type_keeps_its_own_series_and_counts() -> None:
    metrics = Metrics("meetings")
    for _ in range(3):
        metrics.observe_record(TOPIC, HELD, "processed", None, 0.002)
    metrics.observe_record(TOPIC, HELD, "duplicate", None, 0.001)

    counted = {s["outcome"]: v for s, v in values(metrics, "lhl_events_total")}
    assert counted == {"processed": 3.0, "duplicate": 1.0}
    assert values(metrics, "lhl_handler_duration_seconds_count") == [({"service": "meetings", "event_type": HELD}, 4.0)]
    assert values(metrics, "lhl_events_consumed_total") == [({"service": "meetings", "topic": TOPIC}, 4.0)]


def values(metrics: Metrics, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == name
    ]
