"""The verifier accepts an intact chain and names the first bad record after each kind of tampering."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from contracts import topics
from contracts.keys import KeyRegistry
from services.audit.chain import GENESIS_HASH, AuditRecord, canonical_json, link, record_hash
from services.audit.checkpoints import Checkpoint
from services.audit.domain import Received, entry_of
from services.audit.verification import ChainVerifier, Finding

RECORDED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def chain(length: int) -> list[AuditRecord]:
    entries = [
        entry_of(
            Received(topics.MEETINGS_INGRESS, 0, offset, f'{{"n": {offset}, "id": "{uuid.uuid4()}"}}'.encode()),
            topics.DEAD_LETTER,
            KeyRegistry(()),
            RECORDED_AT,
        )
        for offset in range(length)
    ]
    return link(entries, 0, GENESIS_HASH, RECORDED_AT)


def checkpoint_at(records: list[AuditRecord], count: int) -> tuple[str, Checkpoint]:
    head = records[count - 1].hash
    return f"cp-{count}.json", Checkpoint("audit", count, head, "2026-11-22T12:00:00.000000Z", "k")


def verify(records: list[AuditRecord], *checkpoints: tuple[str, Checkpoint]) -> Finding | None:
    verifier = ChainVerifier(checkpoints)
    for record in records:
        if finding := verifier.feed(record):
            return finding
    return verifier.finish()


def rehashed(record: AuditRecord, **changes: object) -> AuditRecord:
    """A forgery by someone who knows the encoding: the record's own hash is right for its new content."""
    changed = replace(record, **changes)  # type: ignore[arg-type]
    return replace(changed, hash=changed.computed_hash())


def test_an_intact_chain_with_its_checkpoints_verifies() -> None:
    records = chain(5)
    verifier = ChainVerifier([checkpoint_at(records, 3), checkpoint_at(records, 5)])
    assert [verifier.feed(r) for r in records] == [None] * 5
    assert verifier.finish() is None
    assert (verifier.count, verifier.head_hash) == (5, records[-1].hash)


def test_each_record_links_to_its_predecessor_and_numbers_follow_from_the_head() -> None:
    records = link([chain(1)[0].entry, chain(1)[0].entry], 7, "ab" * 32, RECORDED_AT)
    assert [r.seq for r in records] == [8, 9]
    assert records[0].prev_hash == "ab" * 32
    assert records[1].prev_hash == records[0].hash


def test_an_edited_record_is_named() -> None:
    records = chain(4)
    edited = replace(records[1], entry=replace(records[1].entry, reason="forged"))
    finding = verify([records[0], edited, *records[2:]])
    assert finding is not None
    assert finding.seq == 2
    assert "record 2" in finding.message
    assert "edited" in finding.message


def test_an_envelope_edited_without_touching_the_hashed_payload_is_named() -> None:
    records = chain(3)
    edited = replace(records[2], entry=replace(records[2].entry, envelope={"n": 999}))
    finding = verify([*records[:2], edited])
    assert finding is not None
    assert finding.seq == 3
    assert "envelope or data differ" in finding.message


def test_a_deleted_record_is_named_as_missing() -> None:
    records = chain(5)
    finding = verify([*records[:2], *records[3:]])
    assert finding is not None
    assert finding.seq == 3
    assert "record 3 is missing" in finding.message


def test_an_inserted_record_is_caught_where_the_chain_no_longer_links() -> None:
    records = chain(4)
    forged = rehashed(records[1], seq=3, prev_hash=records[1].hash, entry=replace(records[1].entry, event_id="forged"))
    shifted = [rehashed(r, seq=r.seq + 1) for r in records[2:]]
    finding = verify([*records[:2], forged, *shifted])
    assert finding is not None
    assert finding.seq == 4
    assert "does not follow record 3" in finding.message
    assert "forged" in finding.message
    assert "inserted, deleted or reordered" in finding.message


def test_swapped_records_are_named() -> None:
    records = chain(4)
    swapped = [records[0], replace(records[2], seq=2), replace(records[1], seq=3), records[3]]
    finding = verify(swapped)
    assert finding is not None
    assert finding.seq == 2
    assert "does not follow record 1" in finding.message


def test_records_out_of_order_in_an_export_are_named() -> None:
    records = chain(3)
    finding = verify([records[0], records[2], records[1]])
    assert finding is not None
    assert "record 2 is missing" in finding.message


def test_a_log_cut_below_the_last_checkpoint_is_reported_as_truncated() -> None:
    records = chain(6)
    finding = verify(records[:4], checkpoint_at(records, 2), checkpoint_at(records, 6))
    assert finding is not None
    assert finding.seq == 5
    assert "truncated" in finding.message
    assert "cp-6.json" in finding.message


def test_an_emptied_log_is_truncated_from_record_1() -> None:
    records = chain(2)
    finding = verify([], checkpoint_at(records, 2))
    assert finding is not None
    assert finding.seq == 1


def test_a_chain_rewritten_consistently_is_caught_by_the_checkpoint() -> None:
    records = chain(4)
    rewritten = [records[0]]
    for record in records[1:]:
        changed = rehashed(record, prev_hash=rewritten[-1].hash, entry=replace(record.entry, region="forged"))
        rewritten.append(changed)
    finding = verify(rewritten, checkpoint_at(records, 3))
    assert finding is not None
    assert finding.seq == 3
    assert "cp-3.json" in finding.message


def test_the_canonical_encoding_is_sorted_compact_utf8_json() -> None:
    assert canonical_json({"b": 1, "a": ["æ", None]}) == '{"a":["æ",null],"b":1}'.encode()


def test_the_hash_is_sha256_of_the_canonical_content() -> None:
    record = chain(1)[0]
    assert record.hash == record_hash(record.content())
    assert len(record.hash) == 64
    assert record.content()["recorded_at"] == "2026-11-22T12:00:00.000000Z"


def test_an_exported_record_reads_back_identical() -> None:
    record = chain(1)[0]
    assert AuditRecord.from_export(record.to_export()) == record
