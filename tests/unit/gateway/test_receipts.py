"""A receipt says what the audit trail shows: received, processed (it caused events), or rejected with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.gateway.receipts import DELIVERED, receipt_of
from services.gateway.repository import TrailRow

SOURCE = "/statsforvalteren/vestland/moter"
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def row(seq: int, kind: str, event_id: str, envelope: dict[str, Any] | None = None, **fields: Any) -> TrailRow:
    values: dict[str, Any] = {
        "seq": seq,
        "recorded_at": AT,
        "kind": kind,
        "source": SOURCE,
        "event_id": event_id,
        "event_type": "no.levehelelivet.meeting.held.v1",
        "region": "vestland",
        "reason": None,
        "reason_message": None,
        "envelope": envelope,
    }
    values.update(fields)
    return TrailRow(**values)


def test_an_event_the_service_dead_lettered_is_rejected_with_its_reason() -> None:
    records = [
        row(1, "event", "e1", {"correlationid": "c"}),
        row(2, "dead_letter", "e1", reason="rule_violated", reason_message="data.meeting_id: the meeting was held"),
    ]
    receipt = receipt_of(SOURCE, "e1", records, [])
    assert receipt.status == "rejected"
    assert [(r.reason, r.message) for r in receipt.rejections] == [
        ("rule_violated", "data.meeting_id: the meeting was held")
    ]


def test_what_an_event_caused_is_listed_with_the_deliveries_about_it() -> None:
    cause = row(1, "event", "e1", {"correlationid": "c"})
    recorded_type = "no.levehelelivet.meeting.recorded.v1"
    recorded = row(2, "event", "d1", {"causationid": "e1"}, source="/lhl/meetings", event_type=recorded_type)
    told = row(
        3,
        "event",
        "n1",
        {
            "causationid": "d1",
            "data": {
                "about_event_id": "d1",
                "about_event_source": "/lhl/meetings",
                "recipient": "ks",
                "channel": "email",
                "delivered_at": "2026-12-02T10:01:00Z",
            },
        },
        source="/lhl/notifications",
        event_type=DELIVERED,
    )
    unrelated = row(4, "event", "d2", {"causationid": "other"}, source="/lhl/meetings")
    receipt = receipt_of(SOURCE, "e1", [cause], [cause, recorded, told, unrelated])
    assert receipt.status == "processed"
    assert [(c.id, [(d.recipient, d.outcome) for d in c.deliveries]) for c in receipt.caused] == [
        ("d1", [("ks", "delivered")])
    ]


def test_an_event_on_the_broker_but_not_yet_in_the_trail_is_accepted() -> None:
    assert receipt_of(SOURCE, "e1", [], []).status == "accepted"
    assert receipt_of(SOURCE, "e1", [row(1, "event", "e1", {})], []).status == "received"
