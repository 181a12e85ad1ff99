"""The webhook body a publishing system gets for a rejected event is a documented type with a committed schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema

from contracts import catalog
from contracts import dead_letter_headers as dlq
from lhl import export
from services.notifications.dead_letters import rejection_notice

NOW = datetime(2022, 6, 2, 8, 30, tzinfo=UTC)
HEADERS = {
    dlq.EVENT_SOURCE: "/hod/saksbehandling",
    dlq.EVENT_ID: "5d0f2b0e-6f63-4b55-9f0e-8d7d4f1f2a10",
    dlq.EVENT_TYPE: "no.levehelelivet.agreement.termination-notice-given.v1",
    dlq.ERROR_CLASS: "invalid_data",
    dlq.ERROR_MESSAGE: "data.effective_date: Input should be a valid date",
    dlq.ORIGINAL_TOPIC: "lhl.ingress.agreement.v1",
    dlq.ORIGINAL_PARTITION: "2",
    dlq.ORIGINAL_OFFSET: "17",
    dlq.FAILED_AT: "2022-06-02T08:29:59+00:00",
    "correlationid": "c-1",
}


def committed_schema() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((export.SCHEMA_DIR / catalog.REJECTION_NOTICE.schema_file).read_text())
    return loaded


def test_the_notice_names_its_type_and_schema_and_its_data_validates_against_the_committed_schema() -> None:
    notice = rejection_notice("/lhl/notifications", HEADERS, "leve-hele-livet-2019-2023", NOW)
    body = json.loads(notice.to_bytes())
    assert (body["type"], body["dataschema"]) == (
        "no.levehelelivet.deadletter.rejected.v1",
        "urn:levehelelivet:schema:deadletter.rejected:v1",
    )
    jsonschema.validate(body["data"], committed_schema())
    assert body["data"]["original_partition"] == 2
    assert body["data"]["original_offset"] == 17
    assert body["data"]["failed_at"] == "2022-06-02T08:29:59Z"
    assert body["correlationid"] == "c-1"


def test_headers_that_cannot_be_read_leave_those_fields_empty_rather_than_lose_the_notice() -> None:
    damaged = {**HEADERS, dlq.ORIGINAL_PARTITION: "two", dlq.FAILED_AT: "yesterday"}
    del damaged[dlq.EVENT_TYPE]
    body = json.loads(rejection_notice("/lhl/notifications", damaged, None, NOW).to_bytes())
    jsonschema.validate(body["data"], committed_schema())
    assert body["data"]["original_partition"] is None
    assert body["data"]["rejected_event_type"] is None
    assert body["data"]["failed_at"] == "2022-06-02T08:30:00Z"
    assert body["partitionkey"] == "none/national"


def test_the_schema_says_it_is_delivered_by_webhook_not_on_a_topic() -> None:
    schema = committed_schema()
    assert schema["x-delivery"] == "signed webhook"
    assert "x-topic" not in schema
