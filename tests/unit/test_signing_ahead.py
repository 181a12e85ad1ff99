"""A large batch's derived events signed in the check processes while the batch is still handled: the rows come out
exactly as when every event is signed in place, whether a child signed them, could not, or died meanwhile."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import topics
from contracts.envelope import CloudEvent
from contracts.signing import Signer, signing
from runtime import parallel
from runtime.check_processes import CheckProcesses
from runtime.db import JsonText
from runtime.outbox import Outgoing, Unsigned, signed_rows
from runtime.signing_ahead import SigningAhead

SIGNER = Signer.of(Ed25519PrivateKey.generate())


def derived(n: int, **changes: str) -> CloudEvent:
    event = CloudEvent(
        specversion="1.0",
        id=f"e-{n}",
        source="/lhl/meetings",
        type="no.levehelelivet.action-item.assigned.v1",
        time=datetime(2022, 3, 10, 16, tzinfo=UTC),
        subject=f"action-item/a{n}",
        dataschema="urn:levehelelivet:schema:action-item.assigned:v1",
        correlationid=f"c-{n}",
        causationid="e-0",
        partitionkey="leve-hele-livet-2019-2023/vestland",
        data={"action_item_id": f"a{n}", "text": "Kartlegge status i kommunene", "note": 'Æ "ø" \\ å'},
    )
    return event.model_copy(update=changes)


def unsigned(event: CloudEvent) -> Unsigned:
    """The event as an emitter leaves it to be signed."""
    return Unsigned(
        event.to_bytes(),
        topics.MEETINGS_EVENTS,
        SIGNER,
        event.id,
        event.type,
        event.partitionkey.encode(),
        JsonText(json.dumps(event.kafka_headers())),
    )


def batch(count: int) -> list[Outgoing]:
    """Unsigned events, one with a subject that holds `,"data":`, and two rows signed already, as a batch's handlers
    leave them."""
    rows: list[Outgoing] = [unsigned(derived(n)) for n in range(count)]
    rows[3] = unsigned(derived(3, subject='x,"data":{"y":1}'))
    rows[4] = unsigned(derived(4)).row()
    rows[5] = unsigned(derived(5)).row()
    return rows


async def sent_as_emitted(ahead: SigningAhead, rows: list[Outgoing]) -> None:
    """`ahead` told of the rows as a batch's handlers emit them, one record's at a time."""
    for n in range(1, len(rows) + 1):
        await ahead.send(rows[:n])


async def test_a_check_process_signs_an_events_bytes_as_they_are_signed_in_place(processes: CheckProcesses) -> None:
    events = [derived(1), derived(2, subject='x,"data":{"y":1}', causationid="é\u0000\\")]
    values = [event.to_bytes() for event in events]

    signed = await processes.sign(SIGNER.secret, SIGNER.key_id, [*values, b"not an event", b""])

    in_place = [signing(event, SIGNER.key_id) for event in events]
    assert signed == [*(pending.value(SIGNER.sign(pending.message)) for pending in in_place), b"", b""]


async def test_a_batchs_events_sent_ahead_come_back_as_signed_in_place(processes: CheckProcesses) -> None:
    rows = batch(150)
    ahead = SigningAhead(processes)

    await sent_as_emitted(ahead, rows)

    # Two chunks of 64 as they were emitted, but for the two rows signed already; the last 22 when the batch is
    # written.
    assert processes.sent == 128 - 2
    assert await ahead.signed(rows) == await signed_rows(rows)


async def test_the_events_of_a_child_that_died_are_signed_in_place(processes: CheckProcesses) -> None:
    rows = batch(150)
    ahead = SigningAhead(processes)
    await sent_as_emitted(ahead, rows)

    for pid in processes.pids:
        os.kill(pid, signal.SIGKILL)

    assert await ahead.signed(rows) == await signed_rows(rows)


async def test_a_small_batch_or_no_check_processes_sign_in_place() -> None:
    for ahead in (SigningAhead(None), SigningAhead(CheckProcesses(count=0))):
        rows = batch(parallel.CHUNK + 10)
        await sent_as_emitted(ahead, rows)
        assert await ahead.signed(rows) == await signed_rows(rows)
    small = batch(parallel.CHUNK - 1)
    processes = CheckProcesses(count=1)
    try:
        ahead = SigningAhead(processes)
        await sent_as_emitted(ahead, small)
        assert (processes.sent, processes.pids) == (0, [])  # not even started for fewer than a chunk's events
        assert await ahead.signed(small) == await signed_rows(small)
    finally:
        await processes.close()
