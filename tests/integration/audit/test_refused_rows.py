"""A row PostgreSQL refuses never holds up the log: the batch rolls back whole and is taken again one entry at a
time, the refused entry kept bare in its place, and the chain over the batch is unbroken."""

from __future__ import annotations

from pathlib import Path

from contracts import topics
from services.audit import connections, repository
from services.audit.domain import Received
from services.audit.verification import ChainVerifier
from tests.integration.audit.helpers import as_owner, audit_settings, recorder_alone
from tests.support.infra import Infra

REFUSED_OFFSET = 2


async def test_a_refused_row_is_kept_bare_in_its_place_and_the_rest_of_its_batch_is_recorded(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    await connections.bootstrap(settings)
    async with as_owner(settings) as conn:
        # A real refusal by the database, of the one full entry at this offset (its bare copy carries a reason).
        await conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW"
            f" WHEN (NEW.kafka_offset = {REFUSED_OFFSET} AND NEW.reason_message IS NULL) EXECUTE FUNCTION refuse()"
        )
    async with recorder_alone(settings) as (recorder, pool):
        topic = settings.topic(topics.MEETINGS_INGRESS)
        first = await recorder.record([Received(topic, 0, 0, b"before the batch")])
        outcome = await recorder.record([Received(topic, 0, n, b"record %d" % n) for n in range(1, 5)])
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT seq FROM audit_log ORDER BY seq")
            records = [await repository.record_at(conn, row["seq"]) for row in rows]

    assert first.recorded == 1
    assert (outcome.received, outcome.recorded, outcome.head_seq) == (4, 4, 5)
    assert [r.entry.kafka_offset for r in records if r is not None] == [0, 1, 2, 3, 4]
    kept = {r.entry.kafka_offset: r.entry for r in records if r is not None}
    assert kept[REFUSED_OFFSET].payload == b"record 2"
    assert "refused for the test" in (kept[REFUSED_OFFSET].reason_message or "")
    assert all(kept[n].reason_message is None for n in (0, 1, 3, 4))
    verifier = ChainVerifier()
    assert [verifier.feed(r) for r in records if r is not None] == [None] * 5
