"""FastStream wiring: a service's definition becomes a FastStream app with one consumer for all its topics, its
publishers declared for the AsyncAPI document, and the lifecycle's start and stop as the app's hooks."""

from __future__ import annotations

import logging
from contextvars import Context, copy_context
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from contracts import catalog
from runtime import header_names, heap
from runtime.clock import Clock, clock_from_settings
from runtime.definition import BatchConsumer, ServiceDefinition
from runtime.lifecycle import ServiceRuntime
from runtime.logging import configure_logging
from runtime.partitions import last_of_each_partition, rewind
from runtime.records import Incoming, Polled, apart, parse_leniently, polled
from runtime.settings import RuntimeSettings
from runtime.tracing import configure_tracing


def build_app(definition: ServiceDefinition, settings: RuntimeSettings, clock: Clock | None = None) -> FastStream:
    """The service's only composition root calls this with its definition and settings."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    header_names.install()
    runtime = ServiceRuntime(definition, settings, clock or clock_from_settings(settings))
    runtime.tracing = configure_tracing(settings.service_name)
    # Before any poll: each poll is handled in a copy of this context, not in FastStream's (runtime.records.apart).
    context = copy_context()
    # FastStream's own access log goes through the JSON handler too; per-record lines come from the pipeline.
    faststream_logger = logging.getLogger("lhl.faststream")
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=settings.kafka.security(),
        client_id=f"lhl-{settings.service_name}",
        logger=faststream_logger,
        log_level=logging.DEBUG,
        apply_types=False,  # the handlers get the poll from the decoder (runtime.records.polled)
        # No telemetry middleware: its span would cover a whole poll's batch. The pipeline opens a span per record
        # that continues the trace in the record's traceparent header; the audit records what others traced and
        # starts no trace of its own.
    )
    router = KafkaRouter(prefix=settings.topic_prefix)
    if definition.batch is not None:
        _subscribe_batch(router, runtime, definition.batch, context)
    elif definition.consumes or definition.raw:
        _subscribe(router, runtime, [*definition.consumes, *definition.raw], context)
    for topic in definition.publishes:
        _declare_publisher(router, topic)
    broker.include_router(router)
    pauses = heap.Pauses(runtime.metrics.observe_gc_pause)
    app = FastStream(
        broker,
        logger=faststream_logger,
        on_startup=[runtime.start],
        after_startup=[*([heap.settle] if settings.gc_tuning else []), pauses.install],
        on_shutdown=[runtime.stop_consuming],
        after_shutdown=[pauses.remove, runtime.stop],
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


def _subscribe(router: KafkaRouter, runtime: ServiceRuntime, consumed: list[str], context: Context) -> None:
    """One consumer for all the service's topics: one group member, so a start costs one rebalance, not one each."""
    accepted = "; ".join(
        f"{topic}: {', '.join(sorted(runtime.definition.consumes.get(topic, {'records as they are'})))}"
        for topic in consumed
    )
    subscriber = router.subscriber(
        *consumed,
        # Whatever has arrived, up to max_records: a poll returns as soon as any record is there, so a batch is
        # never a wait for it to fill, and poll_ms only bounds the wait when none has.
        batch=True,
        max_records=runtime.settings.consume_max_records,
        batch_timeout_ms=runtime.settings.consume_poll_ms,
        max_partition_fetch_bytes=runtime.settings.consume_fetch_bytes,
        fetch_max_wait_ms=runtime.settings.consume_fetch_wait_ms,
        group_id=runtime.settings.group_id,
        # Committed by the runtime's OffsetCommitter after each partition's transaction, a few times a second.
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=parse_leniently,
        decoder=polled,
        description=f"Structured-mode CloudEvents ({CONTENT_TYPE_NOTE}). Accepted types: {accepted}.",
    )

    async def consume(received: Any) -> None:
        poll: Polled = received  # Any in the signature: FastStream would describe a Polled in the AsyncAPI document
        records = [
            Incoming(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ())) for r in poll.records
        ]
        # On a failure the runtime has rewound what it did not commit, so those records come again.
        await apart(runtime.process_batch(records, poll.consumer), context)

    consume.__name__ = f"consume_{runtime.definition.name}"
    subscriber(consume)


def _subscribe_batch(router: KafkaRouter, runtime: ServiceRuntime, batch: BatchConsumer, context: Context) -> None:
    """One batch consumer. A batch that fails is rewound, so it comes again; a batch recorded has its offsets
    committed with the others a few times a second, not one broker round trip per batch, which held up the next
    batch under load (a crash in between redelivers records the recorder finds recorded already)."""
    settings = runtime.settings
    subscriber = router.subscriber(
        *batch.topics,
        batch=True,
        max_records=batch.max_records,
        batch_timeout_ms=settings.consume_poll_ms,
        max_partition_fetch_bytes=settings.consume_fetch_bytes,
        fetch_max_wait_ms=settings.consume_fetch_wait_ms,
        group_id=settings.group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=parse_leniently,
        decoder=polled,
        title=batch.title,
        description=batch.description,
    )

    async def record_batch(received: Any) -> None:
        poll: Polled = received  # as in `_subscribe`
        try:
            await apart(batch.record(poll.records), context)
        except BaseException:
            rewind(poll.consumer, poll.records)
            raise
        for r in last_of_each_partition(poll.records):
            runtime.offsets.processed(poll.consumer, r.topic, r.partition, r.offset)

    subscriber(record_batch)


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
