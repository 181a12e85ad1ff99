"""A dead letter's headers can always be stored and sent, whatever the rejected event held."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.deadletter import ERROR_MESSAGE, EVENT_ID, dead_letter_headers
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
