"""What makes a service: its name, migrations, topics, handlers, timers, and the work it adds at start-up.

A service's `app.py` builds one `ServiceDefinition` and hands it to `runtime.wiring.build_app`; everything that
starts and stops (database, producer, relay, timers, consumers, the service's own workers) is then the same code
for every service, in `runtime.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from aiokafka import ConsumerRecord

from contracts.signing import Signer
from runtime.admission import Check
from runtime.check_processes import CheckProcesses
from runtime.clock import Clock
from runtime.handling import Handler
from runtime.observability import Metrics
from runtime.records import Incoming
from runtime.timers import TimerHandler


class Running(Protocol):
    """What start-up work, workers and raw handlers get of the running service."""

    @property
    def pool(self) -> asyncpg.Pool: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def signer(self) -> Signer: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def check_processes(self) -> CheckProcesses:
        """Where a large batch's signature checks are made (runtime.parallel.read_checking_later)."""

    def wake_relay(self) -> None:
        """Publish the outbox now rather than at the next poll."""

    def worker(self, name: str) -> Worker:
        """The started background worker of that name."""


class Worker(Protocol):
    """A background loop of the service's own: `run` until `stop`, and `wake` to look for work now."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def wake(self) -> None: ...


RawHandler = Callable[[Running, Incoming], Awaitable[None]]
StartHook = Callable[[Running], Awaitable[None]]
"""Work a service does once at start-up, after the migrations and before its consumers start (a seed, timers to
arm from the reference data)."""


@dataclass(frozen=True)
class BackgroundWorker:
    """A worker the lifecycle starts after the start hooks and stops before the outbox relay's last pass; a
    stopping worker finishes the item in hand (within `tasks.WORKER_GRACE_SECONDS`) before it is cancelled.

    `open` yields the worker and closes what it holds (an HTTP client) when the service stops; `copies` loops run
    `worker.run()` side by side."""

    name: str
    open: Callable[[Running], AbstractAsyncContextManager[Worker]]
    copies: int = 1


@dataclass(frozen=True)
class BatchConsumer:
    """Records taken in batches from the topics, one transaction per batch (the audit log), in place of the
    per-record pipeline; a service that consumes so publishes nothing, so it has no outbox, relay or timers."""

    topics: Sequence[str]
    max_records: int
    record: Callable[[Sequence[ConsumerRecord[Any, Any]]], Coroutine[Any, Any, None]]
    """Records a poll's records, in the order they came; raises to have them come again."""
    title: str
    description: str


class Database(Protocol):
    """How a service opens its database when not as the others do (the audit: migrated by the owner, written by a
    role that may only append): its pool, and whether that database is ready."""

    async def open(self) -> asyncpg.Pool: ...

    async def ready(self, pool: asyncpg.Pool) -> bool: ...


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a service: its name, its migrations, what it consumes and what it publishes."""

    name: str
    description: str
    migrations: Path
    consumes: Mapping[str, Mapping[str, Handler]] = field(default_factory=dict)
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
    on_start: Sequence[StartHook] = ()
    workers: Sequence[BackgroundWorker] = ()
    gauges: Sequence[StartHook] = ()
    """Refreshes of the service's own gauges, before each /metrics scrape."""
    batch: BatchConsumer | None = None
    database: Database | None = None
    """None: the service's own schema, migrated with the runtime's and the service's migrations."""

    def consumed_topics(self) -> list[str]:
        """Every topic the service reads, by its unprefixed name."""
        if self.batch is not None:
            return list(self.batch.topics)
        return [*self.consumes, *self.raw]
