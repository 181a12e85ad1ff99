"""The test vector published in docs/audit.md, so an outside verifier's implementation can be checked against it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.audit.chain import GENESIS_HASH, Entry, canonical_json, link

DOCS = Path(__file__).resolve().parents[3] / "docs" / "audit.md"


def vector_record_content() -> tuple[bytes, str]:
    entry = Entry(
        kind="event",
        event_source="/statsforvalteren/vestland/rapportering",
        event_id="r-1",
        event_type="no.levehelelivet.report.submitted.v1",
        event_time=datetime(2022, 5, 14, 9, 0, tzinfo=UTC),
        correlation_id="c-1",
        agreement_id="leve-hele-livet-2019-2023",
        region="vestland",
        topic="lhl.ingress.reports.v1",
        kafka_partition=0,
        kafka_offset=7,
        reason=None,
        reason_message=None,
        headers=(("content-type", "application/cloudevents+json"),),
        payload=b'{"id":"r-1"}',
        envelope={"id": "r-1"},
        data=None,
    )
    [record] = link([entry], 0, GENESIS_HASH, datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    return canonical_json(record.content()), record.hash


def test_the_documented_test_vector_encodes_and_hashes_as_documented() -> None:
    encoded, digest = vector_record_content()
    documented = DOCS.read_text(encoding="utf-8")
    assert encoded.decode() in documented
    assert digest == "64db61206fd033baac48ea3e2ca1a3e5116b38f42db008814973bf2cfe583189"
    assert f"hashes to `{digest}`" in documented


def test_non_ascii_text_is_written_as_itself_in_utf8() -> None:
    assert canonical_json({"summary": "Alle kommunene er nådd"}) == '{"summary":"Alle kommunene er nådd"}'.encode()
    assert canonical_json({"x": "a\nb\x01"}) == b'{"x":"a\\nb\\u0001"}'
