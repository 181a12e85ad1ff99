"""What the audit keeps of each kind of record, and under which key it counts as seen."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID, EVENT_SOURCE, EVENT_TYPE
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from contracts.events.evaluations import FocusAreaStatus, RegionalStatusReportSubmitted
from contracts.events.notifications import Channel, NotificationDelivered
from contracts.keys import KeyRegistry
from services.audit import connections, domain
from services.audit.domain import Received, entry_of, first_of_each_key
from tests.support.kafka import cloud_event as unsigned_event
from tests.support.signing import keys_for_tests

DEAD_LETTER = topics.DEAD_LETTER
KEYS = KeyRegistry.load([keys_for_tests().registry])
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def cloud_event(data: EventData, **attributes: Any) -> CloudEvent:
    """Signed by its source, as every publisher signs."""
    return keys_for_tests().sign(unsigned_event(data, **attributes))


OSLO_SUMMER = timezone(timedelta(hours=2))


def report(region: str = "vestland") -> RegionalStatusReportSubmitted:
    return RegionalStatusReportSubmitted(
        report_id=f"r-{uuid.uuid4().hex[:8]}",
        agreement_id="leve-hele-livet-2019-2023",
        region=region,
        reporting_date=date(2022, 5, 15),
        submitted_by=f"sf-{region}",
        focus_areas=(
            FocusAreaStatus(
                focus_area="mat-og-maltider", municipalities_reached=10, planning=5, decided=3, implementing=1
            ),
        ),
        summary="Godt i gang med måltidsarbeidet.",
    )


def test_a_cloudevent_is_recorded_under_its_source_and_id_with_its_queryable_columns() -> None:
    event = cloud_event(
        report(),
        source="/statsforvalteren/vestland/rapportering",
        region="vestland",
        time=datetime(2022, 5, 14, 11, tzinfo=OSLO_SUMMER),
    )
    entry = entry_of(Received(topics.REPORTS_INGRESS, 2, 41, event.to_bytes()), DEAD_LETTER, KEYS, NOW)
    assert entry.key == ("/statsforvalteren/vestland/rapportering", event.id, "event")
    assert (entry.event_type, entry.correlation_id) == (event.type, event.correlationid)
    assert (entry.agreement_id, entry.region) == ("leve-hele-livet-2019-2023", "vestland")
    assert entry.event_time == datetime(2022, 5, 14, 9, tzinfo=UTC)
    assert (entry.topic, entry.kafka_partition, entry.kafka_offset) == (topics.REPORTS_INGRESS, 2, 41)
    assert entry.envelope == json.loads(event.to_bytes())
    assert entry.data["summary"] == "Godt i gang med måltidsarbeidet."
    assert entry.reason is None


def test_an_event_without_a_region_in_its_data_takes_the_region_from_its_partition_key() -> None:
    delivered = NotificationDelivered(
        notification_id="n-1",
        about_event_id=str(uuid.uuid4()),
        about_event_source="/lhl/meetings",
        about_event_type="no.levehelelivet.action-item.assigned.v1",
        recipient="ks-vestland",
        channel=Channel.EMAIL,
        contact_point="cp-1",
        attempts=1,
        delivered_at=datetime(2022, 3, 11, tzinfo=UTC),
    )
    event = cloud_event(delivered, source="/lhl/notifications", region=None)
    entry = entry_of(Received(topics.NOTIFICATIONS_EVENTS, 0, 0, event.to_bytes()), DEAD_LETTER, KEYS, NOW)
    assert (entry.agreement_id, entry.region) == ("leve-hele-livet-2019-2023", "national")


def test_a_dead_letter_is_keyed_by_the_rejected_event_and_keeps_the_reason() -> None:
    event = cloud_event(report(), source="/statsforvalteren/vestland/rapportering", region="vestland")
    headers = (
        (EVENT_SOURCE, event.source.encode()),
        (EVENT_ID, event.id.encode()),
        (EVENT_TYPE, event.type.encode()),
        (ERROR_CLASS, b"invalid_reference"),
        (ERROR_MESSAGE, b"data.region: ukjent kontor 'nordpolen'"),
        ("correlationid", event.correlationid.encode()),
    )
    entry = entry_of(Received(DEAD_LETTER, 1, 7, event.to_bytes(), headers), DEAD_LETTER, KEYS, NOW)
    accepted = entry_of(Received(topics.REPORTS_INGRESS, 1, 3, event.to_bytes()), DEAD_LETTER, KEYS, NOW)
    assert entry.key == (event.source, event.id, "dead_letter")
    assert entry.key != accepted.key
    assert (entry.reason, entry.reason_message) == ("invalid_reference", "data.region: ukjent kontor 'nordpolen'")
    assert entry.correlation_id == event.correlationid
    assert entry.region == "vestland"


def test_a_dead_letter_of_bytes_that_are_not_json_keeps_the_bytes_and_the_headers_identity() -> None:
    headers = (
        (EVENT_SOURCE, f"kafka:{topics.MEETINGS_INGRESS}".encode()),
        (EVENT_ID, b"0:12"),
        (ERROR_CLASS, b"not_json"),
        (ERROR_MESSAGE, b"the value is not JSON"),
    )
    entry = entry_of(Received(DEAD_LETTER, 0, 3, b"\x00\xffnot json", headers), DEAD_LETTER, KEYS, NOW)
    assert entry.key == (f"kafka:{topics.MEETINGS_INGRESS}", "0:12", "dead_letter")
    assert entry.payload == b"\x00\xffnot json"
    assert (entry.envelope, entry.data, entry.event_type) == (None, None, None)


def test_dead_letter_headers_too_long_to_index_are_kept_in_the_headers_and_keyed_by_coordinates() -> None:
    huge = "x" * 10_000
    headers = (
        (EVENT_SOURCE, b"/some/publisher"),
        (EVENT_ID, huge.encode()),
        (EVENT_TYPE, huge.encode()),
        ("correlationid", huge.encode()),
        (ERROR_CLASS, b"not_cloudevent"),
    )
    entry = entry_of(Received(DEAD_LETTER, 2, 9, b"{}", headers), DEAD_LETTER, KEYS, NOW)
    assert entry.key == (f"kafka:{DEAD_LETTER}", "2:9", "dead_letter")
    assert (entry.event_type, entry.correlation_id) == (None, None)
    assert dict(entry.headers)[EVENT_ID] == huge


def test_a_record_that_is_not_a_cloudevent_is_keyed_by_its_topic_partition_and_offset() -> None:
    entry = entry_of(Received(topics.MEETINGS_INGRESS, 0, 12, b'{"hello": "world"}'), DEAD_LETTER, KEYS, NOW)
    assert entry.key == (f"kafka:{topics.MEETINGS_INGRESS}", "0:12", "not_cloudevent")
    assert entry.envelope == {"hello": "world"}


def test_text_postgresql_cannot_store_is_kept_as_the_replacement_character() -> None:
    value = b'{"id": "a\\u0000b", "note": "\\ud800"}'
    entry = entry_of(Received(topics.MEETINGS_INGRESS, 0, 1, value, (("x-odd", b"\xff\x00"),)), DEAD_LETTER, KEYS, NOW)
    assert entry.envelope == {"id": "a\ufffdb", "note": "\ufffd"}
    assert entry.headers == (("x-odd", "\ufffd\ufffd"),)
    assert entry.payload == value


@pytest.mark.parametrize("value", [b'{"x": NaN}', b'{"x": 1e400}', b'{"x": -Infinity}'])
def test_numbers_json_cannot_write_back_make_a_record_without_an_envelope(value: bytes) -> None:
    entry = entry_of(Received(topics.MEETINGS_INGRESS, 0, 1, value), DEAD_LETTER, KEYS, NOW)
    assert entry.kind == "not_cloudevent"
    assert entry.envelope is None
    assert entry.payload == value


def test_a_redelivered_event_is_kept_once_whether_seen_in_this_batch_or_before() -> None:
    first = cloud_event(report(), source="/statsforvalteren/vestland/rapportering")
    second = cloud_event(report(), source="/statsforvalteren/vestland/rapportering")
    third = cloud_event(report(), source="/statsforvalteren/vestland/rapportering")
    batch = [
        entry_of(Received(topics.REPORTS_INGRESS, 0, offset, event.to_bytes()), DEAD_LETTER, KEYS, NOW)
        for offset, event in enumerate([first, second, first, third, second])
    ]
    recorded = {(third.source, third.id, "event"): hashlib.sha256(third.to_bytes()).digest()}
    fresh, conflicting = first_of_each_key(batch, recorded)
    assert [(e.event_id, e.kafka_offset) for e in fresh] == [(first.id, 0), (second.id, 1)]
    assert conflicting == []


def test_a_second_event_reusing_a_recorded_id_with_other_content_is_not_recorded_but_reported() -> None:
    original = cloud_event(report(), source="/statsforvalteren/vestland/rapportering")
    # Signed by the same publisher: not a forgery, but an id used twice.
    impostor = keys_for_tests().sign(
        original.model_copy(update={"data": {**original.data, "summary": "Ingenting å melde."}})
    )
    batch = [
        entry_of(Received(topics.REPORTS_INGRESS, 0, n, e.to_bytes()), DEAD_LETTER, KEYS, NOW)
        for n, e in enumerate([original, impostor])
    ]
    fresh, conflicting = first_of_each_key(batch, {})
    assert [e.kafka_offset for e in fresh] == [0]
    assert [e.kafka_offset for e in conflicting] == [1]


def test_an_event_that_does_not_verify_is_recorded_as_unauthenticated_without_taking_the_genuine_events_key() -> None:
    genuine = cloud_event(report(), source="/statsforvalteren/vestland/rapportering", region="vestland")
    forged = genuine.model_copy(update={"data": {**genuine.data, "summary": "Alt er forsinket."}})
    forged_entry = entry_of(Received(topics.REPORTS_INGRESS, 0, 1, forged.to_bytes()), DEAD_LETTER, KEYS, NOW)
    genuine_entry = entry_of(Received(topics.REPORTS_INGRESS, 0, 2, genuine.to_bytes()), DEAD_LETTER, KEYS, NOW)
    assert forged_entry.kind == "unauthenticated"
    assert forged_entry.reason == "unauthenticated"
    assert "changed after signing" in (forged_entry.reason_message or "")
    assert genuine_entry.kind == "event"
    assert genuine_entry.signed_by_key == keys_for_tests().signer(genuine.source).key_id
    assert forged_entry.key != genuine_entry.key
    fresh, _ = first_of_each_key([forged_entry, genuine_entry], {})
    assert fresh == [forged_entry, genuine_entry]


def test_an_object_of_strings_and_integers_is_kept_with_its_text_for_the_database_to_read() -> None:
    payload = b'{"id": "e-1", "count": 3, "nested": {"list": [1, 2]}}'
    parsed = domain.parse_json(payload)
    assert isinstance(parsed, domain.ParsedText)
    assert parsed == {"id": "e-1", "count": 3, "nested": {"list": [1, 2]}}
    assert parsed.text == payload
    assert connections._jsonb_to_binary(parsed) == b"\x01" + payload


def test_an_object_with_other_numbers_or_text_to_make_storable_is_written_out_again() -> None:
    for payload in (b'{"half": 0.5}', b'{"tiny": 1e-16000}', b'{"text": "a\\u0000b"}', b'{"text": "\\ud800"}'):
        parsed = domain.parse_json(payload)
        assert type(parsed) is dict, payload
        assert connections._jsonb_to_binary(parsed) == b"\x01" + json.dumps(parsed).encode()
    # A thread's parse starts afresh: a float in the record before does not count against the next.
    assert isinstance(domain.parse_json(b'{"n": 1}'), domain.ParsedText)


def test_text_to_make_storable_is_found_at_any_depth_without_recursion() -> None:
    deep: Any = ["a\x00b"]
    for level in range(5_000):  # far deeper than the interpreter's limit (1,000 frames) would let a recursion go
        deep = {"k\x00": deep, "n": level} if level % 2 else [deep, "\ud800"]
    made = domain.storable_json(deep)
    levels = 0
    while not isinstance(made, str):
        if isinstance(made, dict):
            assert set(made) == {"k\ufffd", "n"}
            made = made["k\ufffd"]
        else:
            assert made[-1] in ("\ufffd", "a\ufffdb")
            made = made[0]
        levels += 1
    assert made == "a\ufffdb"
    assert levels == 5_001


def test_a_key_made_storable_that_meets_another_keeps_the_last_value_in_the_first_place() -> None:
    assert list(domain.storable_json({"a\x00": 1, "b": 2, "a\ufffd": 3}).items()) == [("a\ufffd", 3), ("b", 2)]
