"""CPU-bound work on a batch, spread over the machine's cores.

Ed25519 signing and verification (libsodium, `contracts.ed25519`) release the GIL, so the records of a batch
checked in one thread per core use the other cores while one thread runs the Python around them. Small batches,
what light traffic brings, stay on the event loop's thread: a hand-off would cost more than it saves.
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
"""Fewer items than this are done inline. A share handed to a thread waits for the GIL after each signature while
the event loop runs Python, up to a switch interval (5 ms) at a time: at 16, what light traffic brings (an audit
batch of 10-50 records at 1,000 events/s) went to the threads, and the latency from publication to the audit's
record was higher for it (p50 13-35 ms at 16, 14-26 ms at 128, in four alternating runs each).
A batch of 128 checked inline holds the loop about 25 ms."""
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
