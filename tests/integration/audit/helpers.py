"""Running the audit service and its CLI against the real broker and database, and tampering as the owner."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream import FastStream
from typer.testing import CliRunner, Result

from contracts import topics
from runtime.clock import SystemClock
from runtime.lifecycle import ServiceRuntime
from runtime.observability import HealthServer, Metrics
from runtime.verification import TrustedKeys
from runtime.wiring import runtime_of
from services.audit import connections
from services.audit.app import audit_intake_of, create_app
from services.audit.cli import app as cli
from services.audit.intake import AuditIntake
from services.audit.recorder import Recorder
from services.audit.settings import AuditSettings
from tests.support.infra import Infra
from tests.support.services import settings_for


def audit_settings(infra: Infra, run_id: str, checkpoint_dir: Path) -> AuditSettings:
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return settings_for(
        AuditSettings,
        infra,
        run_id,
        audit_checkpoint_dir=str(checkpoint_dir),
        audit_checkpoint_interval_seconds=0,
        audit_signing_key=base64.b64encode(key).decode(),
        audit_batch_max_records=50,
    )


@dataclass(frozen=True)
class RunningAudit:
    """A started audit service, as its tests look at it: its pool, metrics and HTTP server, and its recorder."""

    runtime: ServiceRuntime
    intake: AuditIntake

    @property
    def settings(self) -> AuditSettings:
        return self.intake.settings

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    @property
    def metrics(self) -> Metrics:
        return self.runtime.metrics

    @property
    def http(self) -> HealthServer | None:
        return self.runtime.http

    @property
    def recorder(self) -> Recorder:
        return self.intake.recorder


@asynccontextmanager
async def running_audit(settings: AuditSettings) -> AsyncIterator[RunningAudit]:
    app: FastStream = create_app(settings)
    await app.start()
    try:
        yield RunningAudit(runtime_of(app), audit_intake_of(app))
    finally:
        await app.stop()


async def end_offsets(settings: AuditSettings) -> dict[tuple[str, int], int]:
    """The next offset of every partition of every topic the audit reads."""
    # The audit service created every topic with this many partitions.
    partitions = [
        TopicPartition(settings.topic(name), p) for name in topics.ALL_TOPICS for p in range(settings.topic_partitions)
    ]
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


async def wait_until_caught_up(runtime: RunningAudit, *, timeout: float = 30.0) -> None:
    """Until every record now on the topics has been recorded (or found already recorded) by the audit."""
    async with asyncio.timeout(timeout):
        while True:
            ends = await end_offsets(runtime.settings)
            positions = runtime.recorder.positions
            if all(positions.get(at, -1) >= end - 1 for at, end in ends.items()):
                return
            await asyncio.sleep(0.1)


async def wait_for_count(runtime: RunningAudit, count: int, *, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if await recorded_count(runtime) >= count:
                return
            await asyncio.sleep(0.1)


async def recorded_count(runtime: RunningAudit) -> int:
    async with runtime.pool.acquire() as conn:
        found: int = await conn.fetchval("SELECT count(*) FROM audit_log")
    return found


def cli_env(settings: AuditSettings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "DB_SCHEMA": settings.schema_name,
        "AUDIT_WRITER_ROLE": settings.audit_writer_role,
        "AUDIT_WRITER_PASSWORD": settings.audit_writer_password,
        "AUDIT_CHECKPOINT_DIR": settings.audit_checkpoint_dir,
        "AUDIT_SIGNING_KEY": settings.audit_signing_key or "",
        "KEYS_DIR": settings.keys_dir,
        "COLUMNS": "200",  # rich folds the table to the terminal's width; the runner has none
    }


async def audit_cli(settings: AuditSettings, *args: str) -> Result:
    """Run `python -m services.audit.cli <args>` in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=cli_env(settings))


def jsonl(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@asynccontextmanager
async def as_owner(settings: AuditSettings) -> AsyncIterator[asyncpg.Connection]:
    """A session of the audit schema's owner, the strongest actor there (no superuser logs in over TCP): it alone
    can get past the trigger, by disabling it."""
    conn = await asyncpg.connect(settings.owner_database_url, server_settings={"search_path": settings.schema_name})
    try:
        yield conn
    finally:
        await conn.close()


@asynccontextmanager
async def recorder_alone(settings: AuditSettings) -> AsyncIterator[tuple[Recorder, asyncpg.Pool]]:
    """The recorder without the service around it, on a writer pool of one connection (the schema bootstrapped
    already), and that pool. It trusts no key: an event is recorded as unauthenticated."""
    pool = await connections.writer_pool(settings, max_size=1)
    try:
        yield Recorder(pool, SystemClock(), settings.topic(topics.DEAD_LETTER), TrustedKeys([])), pool
    finally:
        await pool.close()
