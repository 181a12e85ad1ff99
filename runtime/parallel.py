"""CPU-bound work on a batch spread over the machine's cores: a batch's signatures, and its signature checks.

Ed25519 signing and verification (libsodium, `contracts.ed25519`) release the GIL, so a batch's signatures made in
one thread per core use the other cores. Reading and verifying a record is mostly Python (parsing, validation, the
digests) around one check; in the threads it contended for the GIL with the event loop, so the pipeline and the audit
read their records on the loop's thread: the audit spent 0.31-0.35 ms of CPU per event in catch-up with its records
read in the threads, 0.21-0.29 ms on the loop's thread (docs/performance.md). Only their checks go elsewhere
(`read_checking_later`): to the service's check processes, a chunk at a time as its records are read, or, while
those are not running, to the threads once all are read. Small batches, what light traffic brings, stay on the event
loop's thread here too. The pipeline, which needs no more of a verification than its yes, sends each chunk of records
whole to a check process, which reads and verifies them there (`read_verifying_elsewhere`): reading a record for its
signature (its signed view, the key, the digests) was a seventh of the meetings service's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from contracts import ed25519
from runtime.check_child import Checks
from runtime.check_processes import CheckProcesses, usable_cores
from runtime.child_link import CheckProcessGone
from runtime.records import Incoming
from runtime.verification import EventVerifier

T = TypeVar("T")
R = TypeVar("R")

WORKERS: Final = usable_cores()
"""One thread per core this process may run on: a container given two of the host's 64 cores gets two."""
SMALL_BATCH: Final = 128
"""Fewer items than this are done inline: a share handed to a thread waits for a wake-up and then for the GIL, up to
a switch interval (5 ms) while the event loop runs Python; 128 signatures take about 3 ms inline."""
CHUNK: Final = 64
"""Items that go to a check process together (records' checks, or derived events to sign: runtime.signing_ahead):
a chunk is some 5-77 kB, and a child's pipes hold 1 MB (`check_child.PIPE_BYTES`), so the loop hands one over
without waiting, and the last one's work is a few milliseconds."""
_POOL: Final = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lhl-cpu")


async def map_in_threads(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[work(item) for item in items]`, in order, with the items split into one contiguous share per core.

    `work` must be safe to run in several threads at once and should raise nothing it wants handled here: the
    first exception of a share is raised after every share has finished."""
    if WORKERS == 1 or len(items) < SMALL_BATCH:
        return [work(item) for item in items]
    size = -(-len(items) // WORKERS)
    shares = [items[start : start + size] for start in range(0, len(items), size)]
    loop = asyncio.get_running_loop()
    done = await asyncio.gather(*(loop.run_in_executor(_POOL, _run, work, share) for share in shares))
    return [result for share in done for result in share]


def _run(work: Callable[[T], R], share: Sequence[T]) -> list[R]:
    return [work(item) for item in share]


async def read_checking_later(
    read: Callable[[T, ed25519.Check], R], items: Sequence[T], elsewhere: CheckProcesses | None = None
) -> list[R]:
    """`[read(item, ed25519.verifies) for item in items]`, with the signature checks made elsewhere.

    A batch's records are read on the event loop's thread, but their Ed25519 checks need none of it: each item is
    read with a check that notes what it is asked and answers yes, and every noted check is then made `elsewhere`
    (each chunk as soon as it is read) or in the threads. An item all of whose checks verify was read exactly as
    with real checks, which would have answered the same; one with a check that fails is read again with real
    checks (in that order a later one may have been asked, or the reason differ), which gives its exact reason."""
    asked: list[Checks] = []

    def assumed(item: T) -> R:
        mine: Checks = []
        asked.append(mine)

        def check(public: bytes, signature: bytes, message: bytes) -> bool:
            mine.append((public, signature, message))
            return True

        return read(item, check)

    if elsewhere is None or len(items) < SMALL_BATCH or not elsewhere.ready():
        read_so = [assumed(item) for item in items]
        verified = await map_in_threads(_all_verify, asked)
    else:
        read_so, sent = [], []
        for start in range(0, len(items), CHUNK):
            read_so += [assumed(item) for item in items[start : start + CHUNK]]
            sent.append((start, elsewhere.submit(asked[start : start + CHUNK])))
            await asyncio.sleep(0)  # the loop writes what the pipe did not take at once
        verified = []
        for start, answer in sent:
            verified += await _answered(elsewhere, answer, asked[start : start + CHUNK])
    return [
        result if ok else read(item, ed25519.verifies)
        for item, result, ok in zip(items, read_so, verified, strict=True)
    ]


async def read_verifying_elsewhere(
    read: Callable[[Incoming, Callable[[Incoming], object]], R],
    records: Sequence[Incoming],
    verifier: EventVerifier,
    elsewhere: CheckProcesses | None = None,
) -> list[R]:
    """`[read(record, verifier.check) for record in records]`, each record's verification made by a check process.

    Each chunk goes to a check process, with the keys and the moment `verifier.check` would use, before it is read
    here with a verification that answers yes: a record the child verifies was read as with `verifier.check`, which
    would have passed too. One it does not (or whose child died or fell silent) is read again with `verifier.check`,
    which gives the reason. Small batches, and any while the children are not running, are read as
    `read_checking_later` reads them."""
    if elsewhere is None or len(records) < SMALL_BATCH or not elsewhere.ready():
        return await read_checking_later(lambda record, check: read(record, verifier.by(check)), records, elsewhere)
    registry, at = verifier.at_now()
    read_so, sent = [], []
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        sent.append((len(chunk), elsewhere.verify([(r.key, r.value, r.headers) for r in chunk], registry, at)))
        read_so += [read(record, _verified_elsewhere) for record in chunk]
        await asyncio.sleep(0)  # the loop writes what the pipe did not take at once
    verified: list[bool] = []
    for count, answer in sent:
        try:
            verified += await elsewhere.answered(answer)
        except CheckProcessGone:
            verified += [False] * count
    return [
        result if ok else read(record, verifier.check)
        for record, result, ok in zip(records, read_so, verified, strict=True)
    ]


def _verified_elsewhere(record: Incoming) -> None:
    """A record's verification while a check process makes it: yes, for now."""


async def _answered(elsewhere: CheckProcesses, answer: asyncio.Future[list[bool]], asked: list[Checks]) -> list[bool]:
    """A check process's answer, or, when it died or fell silent meanwhile, the same checks made in the threads."""
    try:
        return await elsewhere.answered(answer)
    except CheckProcessGone:
        return await map_in_threads(_all_verify, asked)


def _all_verify(checks: Checks) -> bool:
    return all(ed25519.verifies(public, signature, message) for public, signature, message in checks)
