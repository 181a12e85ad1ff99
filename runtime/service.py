"""Builds a service's FastStream app from its definition: broker, subscribers, outbox relay and timers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from opentelemetry.sdk.trace import TracerProvider

from contracts import catalog, topics
from contracts.signing import Signer
from runtime import db, header_names, tracing
from runtime.admission import Check
from runtime.clock import Clock, ScaledClock, SystemClock
from runtime.db import Connection
from runtime.kafka_access import KafkaAccess
from runtime.lag import LagProbe, refresh_lag
from runtime.logging import configure_logging, get_logger
from runtime.observability import HealthServer, Metrics
from runtime.offsets import OffsetCommitter
from runtime.outbox import RELAY_PRODUCER_OPTIONS, Emitter, OutboxRelay, backlog
from runtime.pipeline import INFRASTRUCTURE_ERRORS, Handler, Pipeline
from runtime.records import Incoming, do_not_decode, parse_leniently
from runtime.retention import Retention, RetentionPolicy
from runtime.settings import RuntimeSettings
from runtime.tasks import stop_tasks
from runtime.timers import Timer, TimerHandler, TimerRunner
from runtime.tracing import configure_tracing
from runtime.verification import EventVerifier, TrustedKeys

RawHandler = Callable[[Incoming], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a service: its name, its migrations, what it consumes and what it publishes."""

    name: str
    description: str
    migrations: Path
    consumes: Mapping[str, Mapping[str, Handler]]
    """Topic -> event type name -> handler."""
    publishes: Sequence[str] = ()
    timers: Mapping[str, TimerHandler] = field(default_factory=dict)
    secondary: frozenset[str] = frozenset()
    """Consumed topics another service owns: their invalid events are that service's to dead-letter, not ours."""
    checks: Mapping[str, Check] = field(default_factory=dict)
    """Event type -> the service's check of it against the reference data, run before dedupe and handler (and by
    `lhl publish --dry-run`); see runtime.admission."""
    raw: Mapping[str, RawHandler] = field(default_factory=dict)
    """Topics whose records are not CloudEvents (the dead-letter topic): the handler gets each record as it is,
    on the same consumer, and owns its own deduplication."""


def clock_from_settings(settings: RuntimeSettings) -> Clock:
    if settings.clock == "fast":
        start = settings.clock_start or SystemClock().now()
        return ScaledClock(start, settings.clock_speed)
    return SystemClock()


def retention_policy(settings: RuntimeSettings) -> RetentionPolicy:
    return RetentionPolicy(
        horizon=timedelta(hours=settings.retention_hours),
        batch=settings.retention_batch,
        max_batches=settings.retention_max_batches,
        interval_seconds=settings.retention_interval_seconds,
    )


RAW_RETRY_PAUSE_SECONDS = 1.0
"""A raw handler (the dead-letter topic's) that finds the database away waits this long before its record comes
again, so an outage does not spin the consumer."""
STOP_TIMEOUT_SECONDS = 15.0
BROKER_STOP_TIMEOUT_SECONDS = 30.0
"""FastStream gives in-flight handlers up to 15 s, then each consumer leaves its group; past this, give up."""


async def stop_broker(broker: KafkaBroker, log: structlog.stdlib.BoundLogger) -> None:
    """Stop the broker's consumers and producer, but never wait on a broker that stopped answering for ever:
    aiokafka's consumer stop waits for its group coordination to finish, which retries while the broker is gone."""
    try:
        async with asyncio.timeout(BROKER_STOP_TIMEOUT_SECONDS):
            await broker.stop()
    except TimeoutError:
        log.warning("broker_stop_timeout", seconds=BROKER_STOP_TIMEOUT_SECONDS)


class ServiceRuntime:
    """The running parts of one service; started and stopped by the FastStream app's hooks."""

    def __init__(self, definition: ServiceDefinition, settings: RuntimeSettings, clock: Clock) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock
        self.log = get_logger(component="runtime")
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self._pipelines: dict[str, Pipeline] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.relay: OutboxRelay | None = None
        self.timers: TimerRunner | None = None
        self.retention: Retention | None = None
        self.metrics = Metrics(definition.name)
        self.http: HealthServer | None = None
        self.broker: KafkaBroker | None = None
        self.tracing: TracerProvider | None = None
        self.offsets = OffsetCommitter(settings.offset_commit_seconds)
        self._raw = {settings.topic(topic): handler for topic, handler in definition.raw.items()}
        consumed = [settings.topic(t) for t in (*definition.consumes, *definition.raw)]
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

    def migration_dirs(self) -> list[Path]:
        return [db.RUNTIME_MIGRATIONS, self.definition.migrations]

    def all_topics(self) -> list[str]:
        names = {*self.definition.consumes, *self.definition.raw, *self.definition.publishes, topics.DEAD_LETTER}
        return sorted(self.settings.topic(n) for n in names)

    async def start(self) -> None:
        s = self.settings
        self._signer = load_signer(s)
        verifier = EventVerifier(TrustedKeys.installed(s.key_registry_path), self.clock)
        self._pool = await db.create_pool(s.database_url, s.schema_name)
        applied = await db.migrate(self._pool, self.migration_dirs())
        self.log.info("migrations_applied", applied=applied, schema=s.schema_name)
        await ensure_topics(s.kafka, self.all_topics(), s.topic_partitions)
        self._producer = await self._start_producer()
        self.relay = OutboxRelay(
            self._pool, self._send, poll_seconds=s.outbox_poll_seconds, renew_producer=self._renew_producer
        )
        self.timers = TimerRunner(
            self._pool,
            self.clock,
            self.definition.timers,
            self._timer_emitter,
            poll_seconds=s.timer_poll_seconds,
            on_fired=self.relay.wake,
            observe_lag=self.metrics.observe_timer_lag,
        )
        self.retention = Retention(self._pool, retention_policy(s), on_deleted=self.metrics.observe_retention)
        for topic, handlers in self.definition.consumes.items():
            self._pipelines[s.topic(topic)] = Pipeline(
                pool=self._pool,
                clock=self.clock,
                service=s.service_name,
                group_id=s.group_id,
                source=s.event_source,
                topic_of=s.topic,
                handlers=handlers,
                checks=self.definition.checks,
                verifier=verifier,
                signer=self._signer,
                on_committed=self.relay.wake,
                observe=self.metrics.observe_record,
                dead_letters=topic not in self.definition.secondary,
                max_tries=s.max_record_tries,
            )
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self.offsets.run(), name="offset-committer"),
            asyncio.create_task(self.retention.run(), name="retention"),
        ]
        if self.definition.timers:
            self._tasks.append(asyncio.create_task(self.timers.run(), name="timers"))
        if s.http_port is not None:
            self.http = HealthServer(self.metrics, self.readiness, self.refresh_gauges, s.http_host, s.http_port)
            await self.http.start()
        self.log.info("service_started", topics=self.all_topics(), group_id=s.group_id)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
            self.http = None
        # The relay finishes its pass and then publishes what the last handlers wrote, so a clean stop leaves
        # no backlog and publishes nothing twice; the timer loop is safe to cancel (its transaction rolls back).
        if self.relay is not None:
            self.relay.stop()
        relay = [t for t in self._tasks if t.get_name() == "outbox-relay"]
        stuck = await stop_tasks([t for t in self._tasks if t not in relay], limit_seconds=STOP_TIMEOUT_SECONDS)
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
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
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

    async def process(self, record: Incoming) -> None:
        raw = self._raw.get(record.topic)
        if raw is not None:
            try:
                await raw(record)
            except INFRASTRUCTURE_ERRORS:
                await asyncio.sleep(RAW_RETRY_PAUSE_SECONDS)  # the record comes again: not in a tight loop
                raise
            return
        await self._pipelines[record.topic].process(record)

    async def stop_consuming(self) -> None:
        """Runs before FastStream stops the broker: commit what was processed while the consumers still can, then
        stop the broker within a bound (FastStream's own stop afterwards finds it stopped)."""
        await self.offsets.stop()
        if self.broker is not None:
            await stop_broker(self.broker, self.log)

    async def readiness(self) -> dict[str, bool]:
        """Ready when the database answers with every migration applied and the broker answers."""
        checks = {"database": False, "migrations": False, "broker": False}
        if self._pool is not None:
            try:
                async with asyncio.timeout(3):
                    checks["database"] = await self._pool.fetchval("SELECT 1") == 1
                    checks["migrations"] = not await db.pending_migrations(self._pool, self.migration_dirs())
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
        if self._producer is not None:
            try:
                async with asyncio.timeout(3):
                    checks["broker"] = bool(await self._producer.client.fetch_all_metadata())
            except Exception:
                checks["broker"] = False
        return checks

    async def refresh_gauges(self) -> None:
        if self._pool is None:
            return
        await refresh_lag(self.lag, self.metrics)
        pending = await backlog(self._pool)
        self.metrics.outbox_backlog.labels(self.metrics.service).set(pending["pending"])
        oldest = pending["oldest"]
        age = (self.clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        self.metrics.outbox_oldest_age.labels(self.metrics.service).set(max(age, 0.0))
        self.metrics.outbox_set_aside.labels(self.metrics.service).set(pending["set_aside"])
        async with self._pool.acquire() as conn:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL"
            )
        self.metrics.timers_pending.labels(self.metrics.service).set(waiting)

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **self.settings.kafka.options(),
            **RELAY_PRODUCER_OPTIONS,
            client_id=f"lhl-{self.settings.service_name}-outbox",
        )
        await producer.start()
        return producer

    async def _renew_producer(self) -> None:
        """A new producer for the relay after a produce request failed (see OutboxRelay._renew_producer)."""
        renewed = await self._start_producer()
        old, self._producer = self._producer, renewed
        if old is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                    await old.stop()

    async def _send(self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        """Hand one record to the producer; the relay awaits the acknowledgements of a whole batch together."""
        assert self._producer is not None
        ack: Awaitable[object] = await self._producer.send(
            topic,
            value=value,
            key=key,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
        return ack

    def _timer_emitter(self, conn: Connection, timer: Timer, now: datetime) -> Emitter:
        payload = timer.payload
        return Emitter(
            conn,
            source=self.settings.event_source,
            topic_of=self.settings.topic,
            now=now,
            correlation_id=str(payload.get("correlation_id") or f"timer:{timer.key}"),
            causation_id=f"timer:{timer.key}",
            traceparent=payload.get("traceparent"),
            signer=self.signer,
        )


class SigningKeyMissing(RuntimeError):
    """The service has no key to sign its events with; the message says how to make one."""


def load_signer(settings: RuntimeSettings) -> Signer:
    path = settings.signing_key_path
    if not path.is_file():
        raise SigningKeyMissing(
            f"{settings.service_name}: no signing key at {path}; create and register one with "
            f"`lhl keys generate --service {settings.service_name}` (lhl run does this by itself)"
        )
    return Signer.from_file(path)


async def ensure_topics(kafka: KafkaAccess, names: Sequence[str], partitions: int) -> None:
    """Create those of the topics that are missing; the broker lets each principal create only its own topics."""
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def build_app(definition: ServiceDefinition, settings: RuntimeSettings, clock: Clock | None = None) -> FastStream:
    """The service's only composition root calls this with its definition and settings."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    header_names.install()
    runtime = ServiceRuntime(definition, settings, clock or clock_from_settings(settings))
    runtime.tracing = configure_tracing(settings.service_name)
    # FastStream's own access log goes through the JSON handler too; per-record lines come from the pipeline.
    faststream_logger = logging.getLogger("lhl.faststream")
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=settings.kafka.security(),
        client_id=f"lhl-{settings.service_name}",
        logger=faststream_logger,
        log_level=logging.DEBUG,
        # Spans continue the trace in each record's traceparent header; the global tracer provider decides where
        # they go (none by default), so tracing costs nothing until an exporter is configured.
        middlewares=[KafkaTelemetryMiddleware()],
    )
    router = KafkaRouter(prefix=settings.topic_prefix)
    if definition.consumes or definition.raw:
        _subscribe(router, runtime, [*definition.consumes, *definition.raw])
    for topic in definition.publishes:
        _declare_publisher(router, topic)
    broker.include_router(router)
    app = FastStream(
        broker,
        logger=faststream_logger,
        on_startup=[runtime.start],
        on_shutdown=[runtime.stop_consuming],
        after_shutdown=[runtime.stop],
        specification=AsyncAPI(
            broker, title=f"lhl-{definition.name}", version="1.0.0", description=definition.description
        ),
    )
    app.context.set_global("runtime", runtime)
    runtime.broker = broker
    return app


def runtime_of(app: FastStream) -> ServiceRuntime:
    runtime: ServiceRuntime = app.context.get("runtime")
    return runtime


def _subscribe(router: KafkaRouter, runtime: ServiceRuntime, consumed: list[str]) -> None:
    """One consumer for all the service's topics: one group member, so a start costs one rebalance, not one each."""
    accepted = "; ".join(
        f"{topic}: {', '.join(sorted(runtime.definition.consumes.get(topic, {'records as they are'})))}"
        for topic in consumed
    )
    subscriber = router.subscriber(
        *consumed,
        group_id=runtime.settings.group_id,
        # Committed by the runtime's OffsetCommitter after each record's transaction, a few times a second.
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=parse_leniently,
        decoder=do_not_decode,
        description=f"Structured-mode CloudEvents ({CONTENT_TYPE_NOTE}). Accepted types: {accepted}.",
    )

    async def consume(message: KafkaMessage) -> None:
        raw = message.raw_message
        assert not isinstance(raw, tuple)
        try:
            await runtime.process(
                Incoming(raw.topic, raw.partition, raw.offset, raw.key, raw.value, tuple(raw.headers or ()))
            )
        except BaseException:
            await message.nack()  # the database or broker failed: seek back, so the record comes again
            raise
        runtime.offsets.processed(message.consumer, raw.topic, raw.partition, raw.offset)

    consume.__name__ = f"consume_{runtime.definition.name}"
    subscriber(consume)


CONTENT_TYPE_NOTE = "application/cloudevents+json; invalid events go to the dead-letter topic with the reason"


def _declare_publisher(router: KafkaRouter, topic: str) -> None:
    """Declared for the AsyncAPI document; the outbox relay does the publishing."""
    kinds = catalog.on_topic(topic)
    names = ", ".join(k.name for k in kinds) or "dead letters: the original bytes with dlq-* headers"
    router.publisher(
        topic,
        title=f"{topic}:publish",
        description=f"Event types: {names}.",
        schema=kinds[0].model if len(kinds) == 1 else None,
    )
