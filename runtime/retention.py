"""Retention: inbox rows older than the horizon are deleted, in bounded batches. (The outbox keeps no published
rows: the relay deletes each once the broker has it, migration 006.)

The inbox must remember an event for as long as the broker can deliver it again (a group reset to the earliest
offset, a replayed dead letter): the horizon must outlast the topics' retention, or a redelivery would act twice.
Age is measured in the database's own time, like the columns it is compared with (`now()` wrote them), and like
the broker's retention it is wall-clock time: the demo's fast clock must not age rows by simulated years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from runtime.logging import get_logger
from runtime.settings import RuntimeSettings
from runtime.wakeup import Wakeup

# Oldest first, by the age index (migration 004), each statement its own transaction so locks stay short.
_DELETE_INBOX = (
    "DELETE FROM inbox WHERE (event_source, event_id) IN ("
    " SELECT event_source, event_id FROM inbox WHERE processed_at < now() - $1::interval"
    " ORDER BY processed_at LIMIT $2)"
)
STATEMENTS = {"inbox": _DELETE_INBOX}


@dataclass(frozen=True)
class RetentionPolicy:
    horizon: timedelta
    batch: int
    """Most rows one statement deletes."""
    max_batches: int
    """Most statements per table in one run; what is left waits for the next run."""
    interval_seconds: float


class Retention:
    """Runs a sweep at start and then every interval; cancelling it is safe (a statement rolls back whole)."""

    def __init__(self, pool: asyncpg.Pool, policy: RetentionPolicy, *, on_deleted: Callable[[str, int], None]) -> None:
        self._pool = pool
        self._policy = policy
        self._on_deleted = on_deleted
        self._wakeup = Wakeup()
        self._log = get_logger(component="retention")

    def wake(self) -> None:
        self._wakeup.set()

    async def sweep(self) -> dict[str, int]:
        """One run: per table, delete batches until one comes back short or the cap is reached."""
        deleted: dict[str, int] = {}
        capped: list[str] = []
        for table, statement in STATEMENTS.items():
            deleted[table] = 0
            for _ in range(self._policy.max_batches):
                result: str = await self._pool.execute(statement, self._policy.horizon, self._policy.batch)
                count = int(result.split()[-1])
                deleted[table] += count
                self._on_deleted(table, count)
                if count < self._policy.batch:
                    break
            else:
                capped.append(table)
        if any(deleted.values()):
            self._log.info("retention_swept", deleted=deleted, capped=capped, horizon=str(self._policy.horizon))
        return deleted

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                self._log.warning("retention_failed", error_class=type(error).__name__, error=str(error))
            await self._wakeup.wait(self._policy.interval_seconds)


def retention_policy(settings: RuntimeSettings) -> RetentionPolicy:
    return RetentionPolicy(
        horizon=timedelta(hours=settings.retention_hours),
        batch=settings.retention_batch,
        max_batches=settings.retention_max_batches,
        interval_seconds=settings.retention_interval_seconds,
    )
