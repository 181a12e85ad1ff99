"""The writer's statements are planned for the log as it is, not as it was when the service started.

PostgreSQL may cache one generic plan for a prepared statement after five runs. The audit's look-up of which
records are recorded already was then planned while the log was nearly empty (a sequential scan), and that plan
stayed on the connection as the log grew: every batch read the whole log, 4-10 ms at 10,000 records, growing with it.
"""

from __future__ import annotations

from pathlib import Path

from contracts import topics
from services.audit import connections
from services.audit.domain import Received
from tests.integration.audit.helpers import audit_settings, recorder_alone
from tests.support.infra import Infra

BATCHES = 12


async def test_the_look_up_of_recorded_keys_is_planned_afresh_for_every_batch(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    await connections.bootstrap(settings)
    async with recorder_alone(settings) as (recorder, pool):
        topic = settings.topic(topics.MEETINGS_INGRESS)
        for n in range(BATCHES):
            await recorder.record([Received(topic, 0, 2 * n + i, b"not an event %d" % i) for i in (0, 1)])
        async with pool.acquire() as conn:
            plans = await conn.fetchrow(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT event_source, event_id, kind, sha256(payload)%'"
            )
            recorded = await conn.fetchval("SELECT count(*) FROM audit_log")

    assert recorded == 2 * BATCHES
    assert plans is not None
    assert (plans["generic_plans"], plans["custom_plans"]) == (0, BATCHES)
