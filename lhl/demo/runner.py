"""Runs the demo: every service in-process on a simulated clock, the term replayed as the publishing systems would.

Time is driven by the demo, not by the wall: it jumps from one interesting instant to the next (the next
publication or the next timer any service has pending), publishes, fires the due timers, and waits until every
service has caught up before it moves on. The whole term takes minutes, and the order of cause and effect is
the same as in real time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream import FastStream

from contracts import reference, topics
from contracts.signing import Signer, sign_structured
from lhl.acls import apply_namespace
from lhl.demo.mailbox import Mailbox
from lhl.demo.scenario import Publication, Script
from runtime import keystore, outbox, timers
from runtime.clock import ManualClock
from runtime.kafka_access import KafkaAccess
from runtime.lifecycle import ServiceRuntime
from runtime.wiring import runtime_of
from services.audit.app import create_app as create_audit
from services.audit.settings import AuditSettings
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.meetings.app import create_app as create_meetings
from services.meetings.settings import MeetingsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.repository import deliveries
from services.notifications.settings import NotificationsSettings

Progress = Callable[[datetime, int, int], None]


@dataclass(frozen=True)
class DemoConfig:
    """The operator's access; each service gets its own credentials from the environment (LHL_<SERVICE>_...)."""

    kafka: KafkaAccess
    database_url: str
    years: range
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    keys_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="lhl-demo-keys-"))
    """The demo's own signing keys and registry: every publisher's, every service's, valid from its first day."""
    audit_signing_key: str = field(default_factory=lambda: base64.b64encode(os.urandom(32)).decode())
    """Signs the audit's head after every batch, so that `audit verify` finds every record covered."""

    @property
    def key_registry(self) -> Path:
        return Path(self.keys_dir) / "registry.json"

    @property
    def prefix(self) -> str:
        return f"demo{self.run_id}."

    def schema(self, service: str) -> str:
        return f"demo_{self.run_id}_{service}"

    def common(self, service: str) -> dict[str, Any]:
        return {
            "kafka_bootstrap_servers": self.kafka.bootstrap_servers,
            "db_schema": self.schema(service),
            "topic_prefix": self.prefix,
            "outbox_poll_seconds": 0.05,
            "timer_poll_seconds": 3600.0,
            # The demo waits for committed offsets at every simulated instant: commit them promptly.
            "offset_commit_seconds": 0.02,
            "log_level": "ERROR",
            "log_format": "json",
            "keys_dir": self.keys_dir,
            "gc_tuning": False,  # four services in one process, the demo's or a test's: the collector is left alone
        }


@dataclass
class Demo:
    """The running demo: its configuration, clock, services and mailbox."""

    config: DemoConfig
    clock: ManualClock
    mailbox: Mailbox
    apps: dict[str, FastStream]
    publishers: dict[str, Signer]
    published: int = 0

    def runtime(self, service: str) -> ServiceRuntime:
        return runtime_of(self.apps[service])

    def settings(self, service: str) -> dict[str, Any]:
        return self.config.common(service)


def build_apps(config: DemoConfig, clock: ManualClock, smtp_port: int, checkpoint_dir: str) -> dict[str, FastStream]:
    return {
        "meetings": create_meetings(MeetingsSettings(**config.common("meetings")), clock),
        "evaluations": create_evaluations(EvaluationsSettings(**config.common("evaluations")), clock),
        "notifications": create_notifications(
            NotificationsSettings(
                **config.common("notifications"),
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                delivery_poll_seconds=0.05,
            ),
            clock,
        ),
        "audit": create_audit(
            AuditSettings(
                **config.common("audit"),
                audit_checkpoint_dir=checkpoint_dir,
                audit_checkpoint_interval_seconds=0,
                audit_signing_key=config.audit_signing_key,
            ),
            clock,
        ),
    }


@contextlib.asynccontextmanager
async def running_demo(config: DemoConfig, checkpoint_dir: str) -> AsyncIterator[Demo]:
    start = datetime(config.years.start, 1, 1, tzinfo=UTC) - timedelta(days=1)
    clock = ManualClock(start)
    # The demo's own topics and groups get the same ACLs as the production ones, for its prefix.
    await apply_namespace(config.kafka, config.prefix)
    publishers = demo_keys(config, start)
    mailbox = Mailbox()
    mailbox.start()
    apps = build_apps(config, clock, mailbox.port, checkpoint_dir)
    started: list[FastStream] = []
    try:
        for app in apps.values():
            await app.start()
            started.append(app)
        yield Demo(config, clock, mailbox, apps, publishers)
    finally:
        for app in reversed(started):
            await app.stop()
        mailbox.stop()


async def replay_term(demo: Demo, progress: Progress) -> None:
    """Publish the whole script on the simulated clock, firing timers and settling at every instant."""
    agreement = reference.agreement(reference.DEFAULT_AGREEMENT_ID)
    script = Script(agreement, reference.regions()).build(demo.config.years)
    end = datetime(demo.config.years.stop, 1, 2, tzinfo=UTC)
    # As the operator, who may write every ingress topic: the script speaks for many publishing systems.
    producer = AIOKafkaProducer(**demo.config.kafka.options(), acks="all", enable_idempotence=True)
    await producer.start()
    watcher = Settler(demo)
    await watcher.start()
    try:
        queue = list(script)
        while True:
            next_timer = await earliest_timer(demo)
            next_publication = queue[0].at if queue else None
            candidates = [t for t in (next_timer, next_publication) if t is not None and t <= end]
            if not candidates:
                break
            now = max(min(candidates), demo.clock.now())
            demo.clock.set(now)
            while queue and queue[0].at <= now:
                await _publish(producer, demo, queue.pop(0))
            await watcher.settle()
            for service in ("meetings", "evaluations"):
                runner = demo.runtime(service).timers
                if runner is not None:
                    await runner.fire_due()
            await watcher.settle()
            progress(now, len(script) - len(queue), len(script))
        demo.clock.set(end)
        await watcher.settle()
    finally:
        await watcher.stop()
        await producer.stop()


def demo_keys(config: DemoConfig, since: datetime) -> dict[str, Signer]:
    """A key for every registered source and every service, registered in the demo's own registry."""
    keys_dir = Path(config.keys_dir)
    for service in ("meetings", "evaluations", "notifications"):
        keystore.ensure_service_key(keys_dir, config.key_registry, service, since)
    sources = [s for org in reference.organisations().organisations for s in org.sources]
    return keystore.ensure_source_keys(keys_dir, config.key_registry, sources, since)


async def _publish(producer: AIOKafkaProducer, demo: Demo, publication: Publication) -> None:
    signer = demo.publishers.get(publication.signed_as) if publication.signed_as else None
    await producer.send_and_wait(
        f"{demo.config.prefix}{publication.topic}",
        sign_structured(publication.value, signer) if signer is not None else publication.value,
        key=publication.key.encode() if publication.key else None,
        headers=[("content-type", b"application/cloudevents+json")],
    )
    demo.published += 1


async def earliest_timer(demo: Demo) -> datetime | None:
    found: list[datetime] = []
    for service in ("meetings", "evaluations"):
        async with demo.runtime(service).pool.acquire() as conn:
            due = await timers.earliest_due(conn)
        if due is not None:
            found.append(due)
    return min(found) if found else None


class Settler:
    """Knows when every service has consumed everything there is and has nothing left to publish or deliver."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self._admin = AIOKafkaAdminClient(**demo.config.kafka.options())
        self._consumer = AIOKafkaConsumer(**demo.config.kafka.options(), group_id=None)
        # Which topics each group reads, from the services' own definitions: a missing committed offset on one of
        # them means that service is behind.
        self._reads = {
            f"{demo.config.prefix}lhl-{service}": {
                f"{demo.config.prefix}{topic}" for topic in demo.runtime(service).definition.consumed_topics()
            }
            for service in ("meetings", "evaluations", "notifications", "audit")
        }
        self._groups = list(self._reads)

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def settle(self, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            quiet = 0
            while quiet < 2:
                quiet = quiet + 1 if await self._idle() else 0
                if quiet < 2:
                    await asyncio.sleep(0.02)

    async def _idle(self) -> bool:
        for service in ("meetings", "evaluations", "notifications"):
            async with self.demo.runtime(service).pool.acquire() as conn:
                if await outbox.has_unpublished(conn):
                    return False
        async with self.demo.runtime("notifications").pool.acquire() as conn:
            if await deliveries.any_due(conn, self.demo.clock.now()):
                return False
        partitions = [TopicPartition(f"{self.demo.config.prefix}{t}", p) for t in topics.ALL_TOPICS for p in range(3)]
        ends = await self._consumer.end_offsets(partitions)
        for group in self._groups:
            committed = await self._admin.list_consumer_group_offsets(group)
            for tp, end in ends.items():
                if end == 0:
                    continue
                offset = committed.get(tp)
                if offset is not None and offset.offset < end:
                    return False
                if offset is None and tp.topic in self._reads[group]:
                    return False
        return True
