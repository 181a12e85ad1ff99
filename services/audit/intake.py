"""The audit's part of its running service: its database (migrated by the owner, written by the append-only role),
the batch consumer that records every record once, the signed checkpoints, and its gauge."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import topics
from runtime.definition import Running
from runtime.logging import get_logger
from runtime.verification import TrustedKeys
from runtime.wakeup import Wakeup
from services.audit import checkpoints, repository
from services.audit.connections import bootstrap, take_checkpoint, writer_pool
from services.audit.domain import Received
from services.audit.recorder import Recorder
from services.audit.settings import AuditSettings

# A batch that fails (database unreachable) is rewound and retried; the pause keeps that from spinning.
_RETRY_PAUSE_SECONDS = 1.0


class AuditDatabase:
    """Migrated as the schema's owner, then opened as the writer role that may only insert and select."""

    def __init__(self, settings: AuditSettings) -> None:
        self._settings = settings

    async def open(self) -> asyncpg.Pool:
        s = self._settings
        applied = await bootstrap(s)
        get_logger(component="audit").info(
            "migrations_applied", applied=applied, schema=s.schema_name, role=s.audit_writer_role
        )
        return await writer_pool(s)

    async def ready(self, pool: asyncpg.Pool) -> bool:
        """Ready when the log (migrated, so its table exists) answers to the writer role."""
        async with pool.acquire() as conn:
            await repository.log_answers(conn)
        return True


class AuditIntake:
    """Records each batch in one transaction, signs a head checkpoint after it, and checkpoints periodically."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.log = get_logger(component="audit")
        self._running: Running | None = None
        self._recorder: Recorder | None = None
        self._head_key: Ed25519PrivateKey | None = None

    @property
    def running(self) -> Running:
        if self._running is None:
            raise RuntimeError("the audit service is not started")
        return self._running

    @property
    def recorder(self) -> Recorder:
        if self._recorder is None:
            raise RuntimeError("the audit service is not started")
        return self._recorder

    async def start(self, running: Running) -> None:
        s = self.settings
        self._running = running
        keys = TrustedKeys.installed(s.key_registry_path)
        dead_letters = s.topic(topics.DEAD_LETTER)
        self._recorder = Recorder(running.pool, running.clock, dead_letters, keys, running.check_processes)
        self._head_key = checkpoints.load_signing_key(s.audit_signing_key) if s.audit_signing_key else None
        if s.audit_checkpoint_interval_seconds > 0 and not s.audit_signing_key:
            self.log.warning("audit_checkpoints_off", why="no audit_signing_key configured")

    def checkpoints_on(self) -> bool:
        return self.settings.audit_checkpoint_interval_seconds > 0 and bool(self.settings.audit_signing_key)

    async def checkpoint(self) -> Path:
        running = self.running
        path = await take_checkpoint(running.pool, self.settings, running.clock)
        running.metrics.audit_checkpoint_time.labels(running.metrics.service).set(running.clock.now().timestamp())
        self.log.info("audit_checkpoint_written", path=str(path))
        return path

    async def record(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        batch = [Received(r.topic, r.partition, r.offset, r.value, tuple(r.headers or ()), r.key) for r in records]
        try:
            outcome = await self.recorder.record(batch)
        except Exception as error:
            self.log.error("audit_batch_failed", error_class=type(error).__name__, error=str(error), size=len(batch))
            await asyncio.sleep(_RETRY_PAUSE_SECONDS)
            raise
        running = self.running
        if self._head_key is not None and outcome.recorded:
            # Signed before the offsets are committed: a crash in between leaves records uncovered until the next
            # batch, and `audit verify` says how many.
            s = self.settings
            checkpoints.write(
                Path(s.audit_checkpoint_dir),
                s.schema_name,
                outcome.head_seq,
                outcome.head_hash,
                running.clock.now(),
                self._head_key,
                head=True,
            )
        metrics = running.metrics
        for topic, count in Counter(r.topic for r in batch).items():
            metrics.consumed.labels(metrics.service, topic).inc(count)
        metrics.outcomes.labels(metrics.service, "any", "processed").inc(outcome.recorded)
        metrics.outcomes.labels(metrics.service, "any", "duplicate").inc(outcome.received - outcome.recorded)

    async def refresh_gauges(self, running: Running) -> None:
        async with running.pool.acquire() as conn:
            records, _ = await repository.head(conn)
        running.metrics.audit_records.labels(running.metrics.service).set(records)


class Checkpointer:
    """The periodic checkpoint, as a background worker of the service.

    The first checkpoint comes soon after start, not a whole interval later: otherwise `audit verify` right after a
    start held none for five minutes. An empty log is not worth one, so until the first is written the log is
    looked at that often (one indexed read), then every interval."""

    def __init__(self, intake: AuditIntake) -> None:
        self._intake = intake
        self._wakeup = Wakeup()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        s = self._intake.settings
        interval = s.audit_checkpoint_interval_seconds
        pause = min(s.audit_first_checkpoint_seconds, interval)
        last: tuple[int, str] | None = None
        while not self._stopping:
            await self._wakeup.wait(pause)
            if self._stopping:
                return
            try:
                async with self._intake.running.pool.acquire() as conn:
                    current = await repository.head(conn)
                if current[0] > 0 and current != last:
                    await self._intake.checkpoint()
                    last = current
                    pause = interval
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
                self._intake.log.error("audit_checkpoint_failed", error_class=type(error).__name__, error=str(error))
