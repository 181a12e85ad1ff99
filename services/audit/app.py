"""Composition root of the audit service: `faststream run services.audit.app:create_app --factory`.

It does not use runtime.service.build_app, whose pipeline handles one record per transaction: the audit consumer
reads every topic with one batch subscriber and records each batch in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI

from contracts import topics
from runtime import header_names
from runtime.clock import Clock, clock_from_settings
from runtime.db import close_pool
from runtime.kafka_admin import ensure_topics, stop_broker
from runtime.lag import LagProbe, refresh_lag
from runtime.lifecycle import STOP_TIMEOUT_SECONDS
from runtime.logging import configure_logging, get_logger
from runtime.observability import HealthServer, Metrics
from runtime.records import do_not_decode, parse_leniently
from runtime.tasks import stop_tasks
from runtime.verification import TrustedKeys
from services.audit import checkpoints, repository
from services.audit.connections import bootstrap, take_checkpoint, writer_pool
from services.audit.domain import Received
from services.audit.recorder import Recorder
from services.audit.settings import AuditSettings

# A batch that fails (database unreachable) is rewound and retried; the pause keeps that from spinning.
_RETRY_PAUSE_SECONDS = 1.0


class AuditRuntime:
    """The running parts of the audit service, started and stopped by the FastStream app's hooks."""

    def __init__(self, settings: AuditSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.log = get_logger(component="audit")
        self._pool: asyncpg.Pool | None = None
        self._recorder: Recorder | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._head_key: Ed25519PrivateKey | None = None
        self.metrics = Metrics(settings.service_name)
        self.http: HealthServer | None = None
        self.broker: KafkaBroker | None = None
        consumed = [settings.topic(t) for t in topics.ALL_TOPICS]
        self.lag = LagProbe(settings.kafka, settings.group_id, consumed)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the audit service is not started")
        return self._pool

    @property
    def recorder(self) -> Recorder:
        if self._recorder is None:
            raise RuntimeError("the audit service is not started")
        return self._recorder

    async def start(self) -> None:
        s = self.settings
        applied = await bootstrap(s)
        self.log.info("migrations_applied", applied=applied, schema=s.schema_name, role=s.audit_writer_role)
        self._pool = await writer_pool(s)
        keys = TrustedKeys.installed(s.key_registry_path)
        self._recorder = Recorder(self._pool, self.clock, s.topic(topics.DEAD_LETTER), keys)
        self._head_key = checkpoints.load_signing_key(s.audit_signing_key) if s.audit_signing_key else None
        await ensure_topics(s.kafka, [s.topic(t) for t in topics.ALL_TOPICS], s.topic_partitions)
        if s.audit_checkpoint_interval_seconds > 0 and s.audit_signing_key:
            self._tasks.append(asyncio.create_task(self._checkpoint_periodically(), name="audit-checkpoints"))
        elif s.audit_checkpoint_interval_seconds > 0:
            self.log.warning("audit_checkpoints_off", why="no audit_signing_key configured")
        if s.http_port is not None:
            self.http = HealthServer(self.metrics, self.readiness, self.refresh_gauges, s.http_host, s.http_port)
            await self.http.start()
        self.log.info("service_started", group_id=s.group_id)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
            self.http = None
        stuck = await stop_tasks(self._tasks, limit_seconds=STOP_TIMEOUT_SECONDS)
        if stuck:
            self.log.warning("task_stop_timeout", tasks=stuck)
        self._tasks = []
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self.lag.close()
        if self._pool is not None:
            await close_pool(self._pool, STOP_TIMEOUT_SECONDS)
            self._pool = None
        self.log.info("service_stopped")

    async def stop_consuming(self) -> None:
        """Before FastStream's own broker stop, which then finds it stopped: bounded, like every service's."""
        if self.broker is not None:
            await stop_broker(self.broker, self.log)

    async def checkpoint(self) -> Path:
        path = await take_checkpoint(self.pool, self.settings, self.clock)
        self.metrics.audit_checkpoint_time.labels(self.metrics.service).set(self.clock.now().timestamp())
        self.log.info("audit_checkpoint_written", path=str(path))
        return path

    async def record(self, message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        batch = [Received(r.topic, r.partition, r.offset, r.value, tuple(r.headers or ()), r.key) for r in records]
        try:
            outcome = await self.recorder.record(batch)
        except Exception as error:
            self.log.error("audit_batch_failed", error_class=type(error).__name__, error=str(error), size=len(batch))
            await asyncio.sleep(_RETRY_PAUSE_SECONDS)
            raise
        if self._head_key is not None and outcome.recorded:
            # Signed before the offsets are committed: a crash in between leaves records uncovered until the next
            # batch, and `audit verify` says how many.
            s = self.settings
            checkpoints.write(
                Path(s.audit_checkpoint_dir),
                s.schema_name,
                outcome.head_seq,
                outcome.head_hash,
                self.clock.now(),
                self._head_key,
                head=True,
            )
        for topic, count in Counter(r.topic for r in batch).items():
            self.metrics.consumed.labels(self.metrics.service, topic).inc(count)
        self.metrics.outcomes.labels(self.metrics.service, "any", "processed").inc(outcome.recorded)
        self.metrics.outcomes.labels(self.metrics.service, "any", "duplicate").inc(outcome.received - outcome.recorded)

    async def refresh_gauges(self) -> None:
        if self._pool is None:
            return
        await refresh_lag(self.lag, self.metrics)
        async with self._pool.acquire() as conn:
            records, _ = await repository.head(conn)
        self.metrics.audit_records.labels(self.metrics.service).set(records)

    async def readiness(self) -> dict[str, bool]:
        """Ready when the log (migrated, so its table exists) answers to the writer role and the broker answers."""
        checks = {"database": False, "migrations": False, "broker": False}
        try:
            async with asyncio.timeout(3):
                await self.pool.execute("SELECT 1 FROM audit_log LIMIT 1")
                checks["database"] = checks["migrations"] = True
        except (OSError, TimeoutError, RuntimeError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass
        if self.broker is not None:
            checks["broker"] = await self.broker.ping(timeout=3)
        return checks

    async def _checkpoint_periodically(self) -> None:
        """The first checkpoint comes soon after start, not a whole interval later: otherwise `audit verify` right
        after a start held none for five minutes. An empty log is not worth one, so until the first is written
        the log is looked at that often (one indexed read), then every interval."""
        interval = self.settings.audit_checkpoint_interval_seconds
        pause = min(self.settings.audit_first_checkpoint_seconds, interval)
        last: tuple[int, str] | None = None
        while True:
            await asyncio.sleep(pause)
            try:
                async with self.pool.acquire() as conn:
                    current = await repository.head(conn)
                if current[0] > 0 and current != last:
                    await self.checkpoint()
                    last = current
                    pause = interval
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
                self.log.error("audit_checkpoint_failed", error_class=type(error).__name__, error=str(error))


def create_app(settings: AuditSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or AuditSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    header_names.install()
    runtime = AuditRuntime(settings, clock or clock_from_settings(settings))
    # FastStream's own lines go through the JSON handler like every service's; its per-batch access lines at
    # DEBUG, since audit_batch_recorded already says what each batch did.
    faststream_logger = logging.getLogger("lhl.faststream")
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=settings.kafka.security(),
        client_id=f"lhl-{settings.service_name}",
        logger=faststream_logger,
        log_level=logging.DEBUG,
    )
    runtime.broker = broker
    router = KafkaRouter(prefix=settings.topic_prefix)
    subscriber = router.subscriber(
        *topics.ALL_TOPICS,
        batch=True,
        max_records=settings.audit_batch_max_records,
        group_id=settings.group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        parser=parse_leniently,
        decoder=do_not_decode,
        title="audit:all-topics",
        description="Every record of every topic, recorded once in the hash-chained audit log.",
    )

    async def record_batch(message: KafkaMessage) -> None:
        await runtime.record(message)

    subscriber(record_batch)
    broker.include_router(router)
    app = FastStream(
        broker,
        logger=faststream_logger,
        on_startup=[runtime.start],
        on_shutdown=[runtime.stop_consuming],
        after_shutdown=[runtime.stop],
        specification=AsyncAPI(broker, title="lhl-audit", version="1.0.0", description="The audit trail."),
    )
    app.context.set_global("audit_runtime", runtime)
    return app


def audit_runtime_of(app: FastStream) -> AuditRuntime:
    runtime: AuditRuntime = app.context.get("audit_runtime")
    return runtime
