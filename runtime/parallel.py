"""CPU-bound work on a batch spread over the machine's cores: a batch's signatures.

Ed25519 signing and verification (libsodium, `contracts.ed25519`) release the GIL, so a batch's signatures made in
one thread per core use the other cores. Reading and verifying a record is mostly Python (parsing, validation, the
digests) around one check; in the threads it contended for the GIL with the event loop, so the pipeline and the audit
read their records on the loop's thread: the audit spent 0.31-0.35 ms of CPU per event in catch-up with its records
read in the threads, 0.21-0.29 ms on the loop's thread (docs/performance.md). Small batches, what light traffic
brings, stay on the event loop's thread here too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

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
