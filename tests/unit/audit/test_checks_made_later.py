"""The audit reads a batch with its signature checks made elsewhere, in the check processes or in the threads; every
record comes out as it does with each check made as it comes, a signature that does not verify with its exact
reason."""

from __future__ import annotations

from contracts import ed25519, topics
from contracts.envelope import CloudEvent
from runtime import parallel
from runtime.check_processes import CheckProcesses
from services.audit.chain import Entry
from services.audit.domain import Received, entry_of
from tests.support.signing import with_signature_of
from tests.unit.audit.test_recording_rules import DEAD_LETTER, KEYS, NOW, cloud_event, report


def read(record: Received, check: ed25519.Check) -> Entry:
    return entry_of(record, DEAD_LETTER, KEYS, NOW, check)


def genuine() -> CloudEvent:
    return cloud_event(report(), source="/statsforvalteren/vestland/rapportering", region="vestland")


async def test_a_batch_read_with_its_checks_made_later_is_what_each_check_made_at_once_gives(
    checks_elsewhere: CheckProcesses | None,
) -> None:
    events = [genuine() for _ in range(parallel.SMALL_BATCH + 20)]  # enough for the checks to go elsewhere
    events[3] = with_signature_of(events[3], events[4])
    events[50] = events[50].model_copy(update={"data": {**events[50].data, "summary": "Alt er forsinket."}})
    values = [e.to_bytes() for e in events]
    values[70] = b"not a cloudevent"
    batch = [Received(topics.REPORTS_INGRESS, 0, n, value) for n, value in enumerate(values)]

    later = await parallel.read_checking_later(read, batch, checks_elsewhere)

    if checks_elsewhere is not None:
        assert checks_elsewhere.sent == len(batch)

    assert later == [read(record, ed25519.verifies) for record in batch]
    kinds = {n: entry.kind for n, entry in enumerate(later) if entry.kind != "event"}
    assert kinds == {3: "unauthenticated", 50: "unauthenticated", 70: "not_cloudevent"}
    assert "does not verify" in (later[3].reason_message or "")
    assert "changed after signing" in (later[50].reason_message or "")
