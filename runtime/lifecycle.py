"""Starting and stopping every service the same way: database, producer, relay, timers, consumers, workers, health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider

from contracts import topics
from contracts.signing import Signer
from runtime import db, readiness, tracing
from runtime.check_processes import CheckProcesses
from runtime.clock import Clock
from runtime.definition import ServiceDefinition, Worker
from runtime.emitters import Emitters
from runtime.kafka_admin import OutboxProducer, ensure_topics, stop_broker
from runtime.keystore import load_signer
from runtime.lag import LagProbe, refresh_lag
from runtime.logging import get_logger
from runtime.observability import HealthServer, Metrics
from runtime.offsets import OffsetCommitter
from runtime.partitions import last_of_each_partition, one_by_one, process_poll
from runtime.pipeline import Pipeline
from runtime.records import Incoming
from runtime.relay import OutboxRelay
from runtime.retention import Retention, retention_policy
from runtime.settings import RuntimeSettings
from runtime.tasks import STOP_TIMEOUT_SECONDS, WORKER_GRACE_SECONDS, stop_tasks
from runtime.timers import TimerRunner
from runtime.verification import EventVerifier, TrustedKeys


class ServiceRuntime:
    """The running parts of one service; started and stopped by the FastStream app's hooks (runtime.wiring)."""

    def __init__(self, definition: ServiceDefinition, settings: RuntimeSettings, clock: Clock) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock
        self.log = get_logger(component="runtime")
        self._pool: asyncpg.Pool | None = None
        self._producer: OutboxProducer | None = None
        self._pipelines: dict[str, Pipeline] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: dict[str, Worker] = {}
        self._worker_tasks: list[asyncio.Task[None]] = []
        self._opened = contextlib.AsyncExitStack()
        self.relay: OutboxRelay | None = None
        self.timers: TimerRunner | None = None
        self.retention: Retention | None = None
        self.metrics = Metrics(definition.name)
        self.check_processes = CheckProcesses(settings.check_processes, on_failure=self.metrics.check_process_failed)
        self._opened.push_async_callback(self.check_processes.close)
        self.http: HealthServer | None = None
        self.broker: KafkaBroker | None = None
        self.tracing: TracerProvider | None = None
        self.offsets = OffsetCommitter(settings.offset_commit_seconds)
        self._raw = {settings.topic(topic): handler for topic, handler in definition.raw.items()}
        consumed = [settings.topic(t) for t in definition.consumed_topics()]
        self.lag = LagProbe(settings.kafka, settings.group_id, consumed)
        self._signer: Signer | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"service {self.definition.name} is not started")
        return self._pool

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise RuntimeError(f"service {self.definition.name} is not started")
        return self._signer

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def worker(self, name: str) -> Worker:
        return self._workers[name]

    def migration_dirs(self) -> list[Path]:
        return [db.RUNTIME_MIGRATIONS, self.definition.migrations]

    def all_topics(self) -> list[str]:
        d = self.definition
        return sorted(self.settings.topic(n) for n in {*d.consumed_topics(), *d.publishes, topics.DEAD_LETTER})

    async def start(self) -> None:
        s, d = self.settings, self.definition
        if d.database is not None:
            self._pool = await d.database.open()
        else:
            self._signer = load_signer(s)
            self._pool = await db.create_pool(s.database_url, s.schema_name, generic_plans=True)
            applied = await db.migrate(self._pool, self.migration_dirs())
            self.log.info("migrations_applied", applied=applied, schema=s.schema_name)
        await ensure_topics(s.kafka, self.all_topics(), s.topic_partitions)
        await self.check_processes.start()  # before consuming: the first backlog after a start finds them running
        self._tasks.append(asyncio.create_task(self.offsets.run(), name="offset-committer"))
        if d.batch is None:
            await self._start_publishing()
        for hook in d.on_start:
            await hook(self)
        for background in d.workers:
            worker = await self._opened.enter_async_context(background.open(self))
            self._workers[background.name] = worker
            self._worker_tasks += [
                asyncio.create_task(worker.run(), name=f"{background.name}-{n}") for n in range(background.copies)
            ]
        if s.http_port is not None:
            self.http = HealthServer(self.metrics, self.readiness, self.refresh_gauges, s.http_host, s.http_port)
            await self.http.start()
        self.log.info("service_started", topics=self.all_topics(), group_id=s.group_id)

    async def _start_publishing(self) -> None:
        """The outbox's producer and relay, the timers, retention and the per-record pipelines."""
        s = self.settings
        self._producer = p = OutboxProducer(s, STOP_TIMEOUT_SECONDS)
        await p.start()
        self.relay = OutboxRelay(
            self.pool,
            p.send,
            handover=p.handover,
            poll_seconds=s.outbox_poll_seconds,
            renew_producer=p.renew,
            on_published=self.metrics.observe_published,
        )
        self.timers = TimerRunner(
            self.pool,
            self.clock,
            self.definition.timers,
            Emitters(s.event_source, s.topic, self.signer).for_timer,
            poll_seconds=s.timer_poll_seconds,
            on_fired=self.relay.wake,
            observe_lag=self.metrics.observe_timer_lag,
        )
        self.retention = Retention(self.pool, retention_policy(s), on_deleted=self.metrics.observe_retention)
        verifier = EventVerifier(TrustedKeys.installed(s.key_registry_path), self.clock)
        self._pipelines = {s.topic(t): self._pipeline(t, verifier) for t in self.definition.consumes}
        self._tasks += [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self.retention.run(), name="retention"),
        ]
        if self.definition.timers:
            self._tasks.append(asyncio.create_task(self.timers.run(), name="timers"))

    def _pipeline(self, topic: str, verifier: EventVerifier) -> Pipeline:
        s, d = self.settings, self.definition
        assert self.relay is not None
        return Pipeline(
            pool=self.pool,
            clock=self.clock,
            group_id=s.group_id,
            source=s.event_source,
            topic_of=s.topic,
            handlers=d.consumes[topic],
            checks=d.checks,
            verifier=verifier,
            signer=self.signer,
            on_committed=self.relay.wake,
            observe=self.metrics.observe_record,
            dead_letters=topic not in d.secondary,
            max_tries=s.max_record_tries,
            checks_elsewhere=self.check_processes,
        )

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
            self.http = None
        # The service's own workers first: what they emit in their last moments is still published below.
        for worker in self._workers.values():
            worker.stop()
        stuck = await stop_tasks(
            self._worker_tasks, grace_seconds=WORKER_GRACE_SECONDS, limit_seconds=STOP_TIMEOUT_SECONDS
        )
        self._worker_tasks, self._workers = [], {}
        await self._opened.aclose()
        # The relay finishes its pass and then publishes what the last handlers wrote, so a clean stop leaves
        # no backlog and publishes nothing twice; the timer loop is safe to cancel (its transaction rolls back).
        if self.relay is not None:
            self.relay.stop()
        relay = [t for t in self._tasks if t.get_name() == "outbox-relay"]
        stuck += await stop_tasks([t for t in self._tasks if t not in relay], limit_seconds=STOP_TIMEOUT_SECONDS)
        # The relay gets a bounded time to finish its pass; a broker that stopped answering must not hang a stop.
        stuck += await stop_tasks(relay, grace_seconds=STOP_TIMEOUT_SECONDS, limit_seconds=STOP_TIMEOUT_SECONDS)
        if stuck:
            self.log.warning("task_stop_timeout", tasks=stuck)
        self._tasks = []
        if self.relay is not None and self._pool is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                    await self.relay.publish_pending()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self.lag.close()
        if self._pool is not None:
            await db.close_pool(self._pool, STOP_TIMEOUT_SECONDS)
            self._pool = None
        await tracing.flush(self.tracing)
        self.log.info("service_stopped")

    async def process_batch(self, records: Sequence[Incoming], consumer: Any) -> None:
        """What one poll brought, in batches of a partition or of a small poll's partitions (runtime.partitions)."""
        await process_poll(records, consumer, lambda batch: self._take(batch, consumer))

    async def _take(self, batch: list[Incoming], consumer: Any) -> None:
        def committed(record: Incoming) -> None:
            self.offsets.processed(consumer, record.topic, record.partition, record.offset)

        raw = self._raw.get(batch[0].topic)
        if raw is None:
            await self._pipelines[batch[0].topic].process_batch(batch)
            for record in last_of_each_partition(batch):
                committed(record)
        else:
            await one_by_one(batch, lambda record: raw(self, record), committed)

    async def stop_consuming(self) -> None:
        """Runs before FastStream stops the broker: commit what was processed while the consumers still can, then
        stop the broker within a bound (FastStream's own stop afterwards finds it stopped)."""
        await self.offsets.stop()
        if self.broker is not None:
            await stop_broker(self.broker, self.log)

    async def readiness(self) -> dict[str, bool]:
        producer = self._producer.current if self._producer else None
        if self.definition.database is None:
            return await readiness.readiness(self._pool, producer, self.migration_dirs())
        return await readiness.own_database(self.definition.database, self._pool, self.broker)

    async def refresh_gauges(self) -> None:
        if self._pool is None:
            return
        if self.definition.batch is None:
            await readiness.refresh_gauges(self._pool, self.lag, self.metrics, self.clock)
        else:
            await refresh_lag(self.lag, self.metrics)
        for gauges in self.definition.gauges:
            await gauges(self)
