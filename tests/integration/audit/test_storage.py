"""How the log is stored: a typical record stays whole in its row, where reading and writing it is one place."""

from __future__ import annotations

from pathlib import Path

from contracts import topics
from tests.integration.audit.helpers import as_owner, audit_settings, running_audit, wait_for_count
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
