"""A dead letter can always be stored and sent, whatever the rejected record held."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from contracts import limits
from runtime.deadletter import ERROR_MESSAGE, EVENT_ID, VALUE_SHA256, VALUE_TRUNCATED, dead_letter_headers, fitted
from runtime.records import Incoming


def test_nul_and_lone_surrogates_quoted_in_a_rejection_are_replaced_so_postgresql_and_kafka_accept_them() -> None:
    record = Incoming("lhl.ingress.meetings.v1", 0, 7, None, b"{}", ())
    headers = dead_letter_headers(
        record,
        group_id="lhl-meetings",
        reason="invalid_data",
        message="data.extra\x00: text must not contain the NUL character (U+0000)",
        failed_at=datetime(2022, 3, 1, tzinfo=UTC),
        event_source="/hdir/leve-hele-livet",
        event_id="id-\udc80",
        event_type=None,
        correlation_id=None,
        traceparent=None,
    )
    assert headers[ERROR_MESSAGE] == "data.extra\ufffd: text must not contain the NUL character (U+0000)"
    assert headers[EVENT_ID] == "id-\ufffd"
    assert all(value.encode("utf-8") for value in headers.values())


def headers_for(record: Incoming) -> dict[str, str]:
    return dead_letter_headers(
        record,
        group_id="lhl-meetings",
        reason="invalid_record",
        message="the record takes too many bytes",
        failed_at=datetime(2022, 3, 1, tzinfo=UTC),
        event_source="kafka:lhl.ingress.meetings.v1",
        event_id="0:7",
        event_type=None,
        correlation_id=None,
        traceparent=None,
    )


def test_a_dead_letter_keeps_the_key_and_value_byte_for_byte_when_they_fit() -> None:
    record = Incoming("lhl.ingress.meetings.v1", 0, 7, b"\xff\x00key", b"\xfe not json", ())
    letter = fitted(record, headers_for(record))
    assert (letter.key, letter.value) == (b"\xff\x00key", b"\xfe not json")
    assert VALUE_TRUNCATED not in letter.headers


def test_a_value_that_would_not_fit_beside_the_headers_is_cut_and_marked_with_its_length_and_digest() -> None:
    value = b"x" * (limits.MAX_RECORD_BYTES - 100)
    record = Incoming("lhl.ingress.meetings.v1", 0, 7, b"k", value, ())
    letter = fitted(record, headers_for(record))
    assert letter.key == b"k"
    assert letter.value == value[: limits.DEAD_LETTER_KEPT_VALUE_BYTES]
    assert letter.headers[VALUE_TRUNCATED] == str(len(value))
    assert letter.headers[VALUE_SHA256] == hashlib.sha256(value).hexdigest()
    encoded = [(n.encode(), v.encode()) for n, v in letter.headers.items()]
    assert limits.record_bytes(letter.key, letter.value, encoded) <= limits.MAX_RECORD_BYTES
