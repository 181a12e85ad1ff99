"""Parsing a record into a typed event: every way it can be wrong is rejected with what and where."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts import catalog
from contracts.envelope import CloudEvent
from contracts.events.meetings import ActionItemCompleted
from contracts.rejections import Reason, Rejected
from runtime.admission import parse_event
from tests.support.kafka import cloud_event

TYPES = {k.name: k for k in catalog.on_topic("lhl.ingress.meetings.v1")}


def completed() -> CloudEvent:
    data = ActionItemCompleted(
        action_item_id="a-1",
        meeting_id="m-1",
        agreement_id="leve-hele-livet-2019-2023",
        completed_on=date(2022, 3, 1),
        completed_by="ks",
    )
    return cloud_event(data, source="/ks/sekretariat")


def rejection(value: bytes | None) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse_event(value, TYPES)
    return caught.value


def test_a_valid_event_parses_into_its_model() -> None:
    event, data = parse_event(completed().to_bytes(), TYPES)
    assert isinstance(data, ActionItemCompleted)
    assert data.completed_by == "ks"
    assert event.type == "no.levehelelivet.action-item.completed.v1"


def test_bytes_that_are_not_json_are_rejected() -> None:
    assert rejection(b"\xff\xfe").reason is Reason.NOT_JSON
    assert rejection(None).reason is Reason.NOT_JSON


def test_json_that_is_not_a_cloudevent_names_the_missing_attributes() -> None:
    rejected = rejection(json.dumps({"id": "x"}).encode())
    assert rejected.reason is Reason.NOT_CLOUDEVENT
    assert "source: missing; every CloudEvent has this attribute" in rejected.message
    assert "specversion: missing; every CloudEvent has this attribute" in rejected.message


def test_an_unknown_type_lists_the_accepted_ones() -> None:
    raw = json.loads(completed().to_bytes()) | {"type": "no.levehelelivet.report.submitted.v1"}
    rejected = rejection(json.dumps(raw).encode())
    assert rejected.reason is Reason.UNKNOWN_TYPE
    assert "no.levehelelivet.meeting.held.v1" in rejected.message


def test_a_dataschema_that_does_not_match_the_type_is_rejected() -> None:
    raw = json.loads(completed().to_bytes()) | {"dataschema": "urn:levehelelivet:schema:meeting.held:v1"}
    assert rejection(json.dumps(raw).encode()).reason is Reason.WRONG_DATASCHEMA


def test_invalid_data_names_the_field_path() -> None:
    raw = json.loads(completed().to_bytes())
    raw["data"]["completed_on"] = "yesterday"
    raw["data"]["surprise"] = 1
    rejected = rejection(json.dumps(raw).encode())
    assert rejected.reason is Reason.INVALID_DATA
    assert 'data.completed_on: expected a date written YYYY-MM-DD from 1900 to 2999, got the text "yesterday"' in (
        rejected.message
    )
    assert "data.surprise: unknown field; the fields here are action_item_id, agreement_id" in rejected.message


def test_a_time_without_offset_is_not_accepted() -> None:
    raw = json.loads(completed().to_bytes()) | {"time": datetime(2022, 1, 1).isoformat()}  # noqa: DTZ001
    rejected = rejection(json.dumps(raw).encode())
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message.startswith("time: expected a date and time in RFC 3339 with an offset")


def test_a_malformed_traceparent_is_rejected() -> None:
    raw = json.loads(completed().to_bytes()) | {"traceparent": "not-a-trace"}
    assert "traceparent" in rejection(json.dumps(raw).encode()).message


def test_envelope_round_trips_through_bytes() -> None:
    event = completed()
    again = CloudEvent.model_validate_json(event.to_bytes())
    assert again == event
    assert again.time.tzinfo is not None
    assert event.kafka_headers()["content-type"] == "application/cloudevents+json"
    assert uuid.UUID(event.id)
    assert datetime.now(UTC) >= event.time


@pytest.mark.parametrize(
    ("place", "expected_path"),
    [
        (lambda raw: raw["data"].update(completed_by="ks\u0000"), "data.completed_by"),
        (lambda raw: raw.update(subject="x\u0000"), "subject"),
        (lambda raw: raw["data"].update({"extra\u0000": 1}), "data.extra\u0000"),
    ],
    ids=["data field", "envelope attribute", "key"],
)
def test_nul_anywhere_is_invalid_data_at_its_path_since_postgresql_cannot_store_it(
    place: Callable[[dict[str, Any]], None], expected_path: str
) -> None:
    raw = json.loads(completed().to_bytes())
    place(raw)
    rejected = rejection(json.dumps(raw).encode())
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message == f"{expected_path}: text must not contain the NUL character (U+0000) or a lone surrogate"
