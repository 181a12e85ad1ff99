"""CPU-bound work on a batch spread over the machine's cores: a batch's signatures, and its signature checks.

Ed25519 signing and verification (libsodium, `contracts.ed25519`) release the GIL, so a batch's signatures made in
one thread per core use the other cores. Reading and verifying a record is mostly Python (parsing, validation, the
digests) around one check; in the threads it contended for the GIL with the event loop, so the pipeline and the audit
read their records on the loop's thread: the audit spent 0.31-0.35 ms of CPU per event in catch-up with its records
read in the threads, 0.21-0.29 ms on the loop's thread (docs/performance.md). Only their checks go to the threads,
all of a batch's together once its records are read (`read_checking_later`). Small batches, what light traffic
brings, stay on the event loop's thread here too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from contracts import ed25519

T = TypeVar("T")
R = TypeVar("R")

WORKERS: Final = max(1, os.cpu_count() or 1)
SMALL_BATCH: Final = 128
"""Fewer items than this are done inline: a share handed to a thread waits for a wake-up and then for the GIL, up to
a switch interval (5 ms) while the event loop runs Python; 128 signatures take about 3 ms inline."""
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


Checks = list[tuple[bytes, bytes, bytes]]
"""An item's signature checks: (public key, signature, message) each."""


async def read_checking_later(read: Callable[[T, ed25519.Check], R], items: Sequence[T]) -> list[R]:
    """`[read(item, ed25519.verifies) for item in items]`, with the signature checks made together in the threads.

    A batch's records are read on the event loop's thread (the Python of it contends for the GIL in the threads),
    but their Ed25519 checks need no GIL: each item is read with a check that notes what it is asked and answers
    yes, and every noted check is then made in the threads. An item all of whose checks verify was read exactly as
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

    read_so = [assumed(item) for item in items]
    verified = await map_in_threads(_all_verify, asked)
    return [
        result if ok else read(item, ed25519.verifies)
        for item, result, ok in zip(items, read_so, verified, strict=True)
    ]


def _all_verify(checks: Checks) -> bool:
    return all(ed25519.verifies(public, signature, message) for public, signature, message in checks)
