"""Stopping background tasks within a bound, even a task that swallowed its cancellation.

On Python 3.11, asyncio.wait_for returns the inner result when a cancellation races with that result arriving,
and the cancellation is lost. Libraries we call use it (aiosmtplib waits for every SMTP reply that way), so a
loop cancelled once can carry on forever and hold up the stop that awaits it. A stop therefore cancels again
until the task ends, and gives up on it, by name, once its time is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

STOP_TIMEOUT_SECONDS = 15.0
"""How long a service's stop waits for each group of its tasks once cancelled."""
WORKER_GRACE_SECONDS = 12.0
"""How long a stopping worker may take to finish the item in hand (a delivery whose recipient already accepted
it, not yet recorded) before it is cancelled: longer than a webhook's timeout, so a clean stop sends no
message twice."""
RECANCEL_SECONDS = 1.0
"""Long enough for a cancelled task's cleanup (a transaction's rollback) to finish before it is cancelled again."""


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any]], *, limit_seconds: float, grace_seconds: float = 0.0
) -> list[str]:
    """Let the tasks end by themselves for `grace_seconds`, then cancel them, again every second while one runs
    on, until all are done or `limit_seconds` (after the grace) passed. Returns the names of those still running."""
    tasks = list(tasks)
    pending = {t for t in tasks if not t.done()}
    if pending and grace_seconds > 0:
        _, pending = await asyncio.wait(pending, timeout=grace_seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_seconds
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_SECONDS, remaining))
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved; the task logged its own
    return sorted(t.get_name() for t in pending)
