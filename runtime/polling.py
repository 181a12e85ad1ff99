"""The one background poll loop (outbox relay, timers, delivery worker) and the one list of infrastructure errors.

A pass that fails is logged and the loop goes on: a failure of the database or broker (the list below) is expected
while they are away and logged as a warning; anything else is a bug, logged as an error, and must not end the loop
either, or the service would stop publishing, firing or delivering while it still looks alive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from runtime.wakeup import Wakeup

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    TimeoutError,
)
"""Failures of the database or broker, not of the work in hand: the work is tried again once they answer."""
CONTENTION: tuple[type[BaseException], ...] = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
"""Transactions that met another (a poll's partitions run at once, and so do instances): the database chose one to
undo, and the next try does not meet the same one. Never the work's own fault."""


async def poll(
    step: Callable[[], Awaitable[object]],
    *,
    wakeup: Wakeup,
    seconds: float | Callable[[], float],
    stopping: Callable[[], bool],
    failed: str,
    log: structlog.stdlib.BoundLogger,
) -> None:
    """Run `step` until `stopping()`, then once more each time `wakeup` is set or `seconds` passed (asked anew
    after each pass when it is a function).

    `failed` names the log event of a failed pass. On the way out the wakeup is set again, so other copies of the
    same loop (the delivery worker runs several) that sleep on it see the stop at once.
    """
    while not stopping():
        try:
            await step()
        except INFRASTRUCTURE_ERRORS as error:
            log.warning(failed, error_class=type(error).__name__, error=str(error))
        except Exception as error:
            log.error(failed, error_class=type(error).__name__, error=str(error))
        if stopping():
            break
        await wakeup.wait(seconds() if callable(seconds) else seconds)
    wakeup.set()
