"""How the log is stored: a typical record stays whole in its row, where reading and writing it is one place."""

from __future__ import annotations

import json
from pathlib import Path

from contracts import topics
from services.audit.connections import init_connection
from tests.integration.audit.helpers import as_owner, audit_cli, audit_settings, running_audit, wait_for_count
from tests.integration.audit.mix import MEETINGS_SOURCE, REPORTS_SOURCE, report
from tests.support.events import vestland_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event


async def test_typical_records_are_stored_in_their_rows_not_toasted(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    events = [
        cloud_event(vestland_meeting_held(f"m-{run_id}-{n}"), source=MEETINGS_SOURCE, region="vestland")
        for n in range(5)
    ] + [cloud_event(report(), source=REPORTS_SOURCE, region="vestland") for _ in range(5)]
    async with running_audit(settings) as audit:
        for event in events:
            topic = topics.MEETINGS_INGRESS if event.source == MEETINGS_SOURCE else topics.REPORTS_INGRESS
            await bus.publish_event(topic, event)
        await wait_for_count(audit, len(events))

    async with as_owner(settings) as conn:
        sizes = [r["size"] for r in await conn.fetch("SELECT pg_column_size(audit_log.*) AS size FROM audit_log")]
        toasted = await conn.fetchval(
            "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'audit_log'::regclass"
        )
    # Each row is well over PostgreSQL's default TOAST target (about 2 kB), so by default each would have been
    # compressed or cut into chunks of a second table.
    assert len(sizes) == len(events)
    assert min(sizes) > 2_100, sizes
    assert toasted == 0


async def test_analyze_keeps_statistics_for_the_columns_queries_filter_on_not_the_records_bytes(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    events = [cloud_event(report(), source=REPORTS_SOURCE, region="vestland") for _ in range(3)]
    async with running_audit(settings) as audit:
        for event in events:
            await bus.publish_event(topics.REPORTS_INGRESS, event)
        await wait_for_count(audit, len(events))

    async with as_owner(settings) as conn:
        await conn.execute("ANALYZE audit_log")
        schema = await conn.fetchval("SELECT current_schema()")
        with_statistics = {
            r["attname"]
            for r in await conn.fetch(
                "SELECT attname FROM pg_stats WHERE schemaname = $1 AND tablename = 'audit_log'", schema
            )
        }
    # What the trail, the look-ups and `audit verify` filter or order on has statistics; the wide columns, whose
    # sorting was most of an ANALYZE's work, have none.
    assert {"seq", "correlation_id", "event_type", "agreement_id", "event_source", "event_id"} <= with_statistics
    assert with_statistics.isdisjoint({"payload", "envelope", "data", "headers", "hash", "prev_hash", "dssematerial"})


async def test_an_envelope_is_stored_as_its_payload_reads_whether_kept_as_sent_or_written_out_again(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    # Each a JSON object the audit keeps as `not_cloudevent`, with its envelope. The first three are stored as sent
    # (PostgreSQL reads the payload itself); the last two, with numbers that are not integers, are written out again.
    payloads = [
        b' { "specversion" : "1.0", "n": 1, "n": 2,\n "nested": {"list": [1, -0, 12345678901234567890123]} } ',
        '{"text": "\\u00e9 \\ud83d\\ude00 \u00e5 \\/ \\" \\\\"}'.encode(),
        b'{"empty": {}, "none": null, "yes": true, "list": []}',
        b'{"tiny": 1e-16000, "half": 0.5, "hundred": 1E2}',
        b'{"long": 0.' + b"1" * 500 + b"}",
    ]
    async with running_audit(settings) as audit:
        for payload in payloads:
            await bus.publish_raw(topics.REPORTS_INGRESS, payload)
        await wait_for_count(audit, len(payloads))

    async with as_owner(settings) as conn:
        await init_connection(conn)
        rows = await conn.fetch("SELECT payload, envelope, octet_length(envelope::text) AS size FROM audit_log")
    stored = {bytes(r["payload"]): r for r in rows}  # unkeyed, so not in one partition's order
    assert sorted(stored) == sorted(payloads)
    for payload, row in stored.items():
        assert row["envelope"] == json.loads(payload), payload
    # Python reads 1e-16000 as 0.0; PostgreSQL, given the text, would keep all 16,000 digits.
    assert stored[payloads[3]]["size"] < 200, stored[payloads[3]]["size"]
    assert stored[payloads[0]]["envelope"]["n"] == 2
    assert stored[payloads[1]]["envelope"]["text"] == 'é 😀 å / " \\'
    assert (await audit_cli(settings, "verify")).exit_code == 0
