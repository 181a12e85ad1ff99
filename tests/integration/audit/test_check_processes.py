"""A service starts processes of its own with it, makes a large batch's signature checks there, records every event
as with checks made in place (a forged one as unauthenticated), and ends those processes when it stops."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from contracts import topics
from runtime.check_processes import usable_cores
from runtime.wiring import runtime_of
from services.audit.app import audit_intake_of, create_app
from tests.integration.audit.helpers import RunningAudit, audit_settings, wait_for_count
from tests.integration.audit.mix import REPORTS_SOURCE, report
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.signing import keys_for_tests, with_signature_of

BACKLOG = 300
"""One partition's worth (all of one region), more than `runtime.parallel.SMALL_BATCH`: a large first batch."""


async def test_the_audit_starts_its_check_processes_checks_a_large_batch_there_counts_one_dying_and_ends_them(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints").model_copy(
        update={"audit_batch_max_records": 500}
    )
    events = [
        keys_for_tests().sign(cloud_event(report(), source=REPORTS_SOURCE, region="vestland")) for _ in range(BACKLOG)
    ]
    events[7] = with_signature_of(events[7], events[8])
    await asyncio.gather(*(bus.publish_event(topics.REPORTS_INGRESS, event) for event in events))
    app = create_app(settings)
    processes = runtime_of(app).check_processes
    await app.start()  # into a backlog, as after a restart: its first large batch already finds them running
    pids = processes.pids
    try:
        audit = RunningAudit(runtime_of(app), audit_intake_of(app))
        await wait_for_count(audit, BACKLOG)
        kinds = {row["event_id"]: row["kind"] for row in await audit.pool.fetch("SELECT event_id, kind FROM audit_log")}
        os.kill(pids[0], signal.SIGKILL)  # the out-of-memory killer, say
        async with asyncio.timeout(10):  # the service notices when the child's output ends
            while True:
                if failures(audit):
                    break
                await asyncio.sleep(0.05)
    finally:
        await app.stop()

    assert processes.sent >= 128
    assert kinds == {event.id: "unauthenticated" if n == 7 else "event" for n, event in enumerate(events)}
    assert len(pids) == min(4, usable_cores())
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert failures(audit) == 1


def failures(audit: RunningAudit) -> float:
    counted = audit.metrics.registry.get_sample_value("lhl_check_process_failures_total", {"service": "audit"})
    return counted or 0.0
