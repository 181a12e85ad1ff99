"""The audit record and its hash chain: canonical encoding, SHA-256 links, and the export form.

The encoding is specified in docs/audit.md so that an outside verifier can recompute every hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

Kind = Literal["event", "dead_letter", "not_cloudevent", "unauthenticated"]
GENESIS_HASH: Final = "0" * 64


_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """RFC 8785-style JSON: sorted keys, no whitespace, UTF-8, only strings, integers, null, arrays and objects."""
    return _CANONICAL.encode(value).encode()


def utc_text(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with exactly six fractional digits and a Z, the only time format inside a hash."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_utc_text(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Entry:
    """What one Kafka record contributes to the log, before it has a place in the chain."""

    kind: Kind
    event_source: str
    event_id: str
    event_type: str | None
    event_time: datetime | None
    correlation_id: str | None
    agreement_id: str | None
    region: str | None
    topic: str
    kafka_partition: int
    kafka_offset: int
    reason: str | None
    reason_message: str | None
    headers: tuple[tuple[str, str | None], ...]
    payload: bytes
    envelope: dict[str, Any] | None
    data: Any
    dssematerial: str | None = None
    """The event's verification material as received (a projection of the payload, not hashed)."""
    signed_by_key: str | None = None
    """The registered key its signature verified with when recorded (for kind `event`)."""
    message_key: bytes | None = None
    """The record's Kafka key as it came. Hashed when present; records from before it was kept have none. A binary-mode
    event's `partitionkey` is its key, so its signature cannot be checked without it."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.event_source, self.event_id, self.kind)


@dataclass(frozen=True)
class AuditRecord:
    """One link of the chain, exactly as stored."""

    seq: int
    recorded_at: datetime
    entry: Entry
    prev_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """The hashed content: every stored field except the hash itself and the envelope/data projections."""
        e = self.entry
        return {
            "seq": self.seq,
            "recorded_at": utc_text(self.recorded_at),
            "kind": e.kind,
            "event_source": e.event_source,
            "event_id": e.event_id,
            "event_type": e.event_type,
            "event_time": utc_text(e.event_time),
            "correlation_id": e.correlation_id,
            "agreement_id": e.agreement_id,
            "region": e.region,
            "topic": e.topic,
            "kafka_partition": e.kafka_partition,
            "kafka_offset": e.kafka_offset,
            "reason": e.reason,
            "reason_message": e.reason_message,
            "headers": [[name, value] for name, value in e.headers],
            "payload": base64.b64encode(e.payload).decode("ascii"),
            **({} if e.message_key is None else {"message_key": base64.b64encode(e.message_key).decode("ascii")}),
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return record_hash(self.content())

    def to_export(self) -> dict[str, Any]:
        e = self.entry
        projections = {"envelope": e.envelope, "data": e.data, "dssematerial": e.dssematerial}
        return {**self.content(), "hash": self.hash, **projections, "signed_by_key": e.signed_by_key}

    @classmethod
    def from_export(cls, item: dict[str, Any]) -> AuditRecord:
        recorded_at = parse_utc_text(item["recorded_at"])
        assert recorded_at is not None
        entry = Entry(
            kind=item["kind"],
            event_source=item["event_source"],
            event_id=item["event_id"],
            event_type=item["event_type"],
            event_time=parse_utc_text(item["event_time"]),
            correlation_id=item["correlation_id"],
            agreement_id=item["agreement_id"],
            region=item["region"],
            topic=item["topic"],
            kafka_partition=item["kafka_partition"],
            kafka_offset=item["kafka_offset"],
            reason=item["reason"],
            reason_message=item["reason_message"],
            headers=tuple((str(n), None if v is None else str(v)) for n, v in item["headers"]),
            payload=base64.b64decode(item["payload"], validate=True),
            envelope=item.get("envelope"),
            data=item.get("data"),
            dssematerial=item.get("dssematerial"),
            signed_by_key=item.get("signed_by_key"),
            message_key=None
            if item.get("message_key") is None
            else base64.b64decode(item["message_key"], validate=True),
        )
        return cls(item["seq"], recorded_at, entry, item["prev_hash"], item["hash"])


def record_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def link(entries: list[Entry], head_seq: int, head_hash: str, recorded_at: datetime) -> list[AuditRecord]:
    """Append entries after the head, in order, each hashed over its content and its predecessor's hash."""
    # The stored timestamp has microsecond precision; hash exactly what will be read back.
    recorded_at = recorded_at.astimezone(UTC)
    records: list[AuditRecord] = []
    prev_seq, prev_hash = head_seq, head_hash
    for entry in entries:
        unhashed = AuditRecord(prev_seq + 1, recorded_at, entry, prev_hash, "")
        record = AuditRecord(unhashed.seq, recorded_at, entry, prev_hash, unhashed.computed_hash())
        records.append(record)
        prev_seq, prev_hash = record.seq, record.hash
    return records


def _bytes_or_none(encoded: str | None) -> bytes | None:
    return None if encoded is None else base64.b64decode(encoded, validate=True)
