"""Composition root of the audit service: `faststream run services.audit.app:create_app --factory`.

It reads every topic with one batch consumer and records each batch in one transaction (no per-record pipeline,
outbox or timers); its database is migrated by the schema's owner and written by an append-only role.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from faststream import FastStream

from contracts import topics
from runtime.clock import Clock
from runtime.definition import BackgroundWorker, BatchConsumer, Running, ServiceDefinition
from runtime.wiring import build_app
from services.audit.intake import AuditDatabase, AuditIntake, Checkpointer
from services.audit.settings import AuditSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CHECKPOINTS = "audit-checkpoints"


def definition(settings: AuditSettings, intake: AuditIntake) -> ServiceDefinition:
    @contextlib.asynccontextmanager
    async def open_checkpointer(running: Running) -> AsyncIterator[Checkpointer]:
        yield Checkpointer(intake)

    return ServiceDefinition(
        name="audit",
        description="The audit trail.",
        migrations=MIGRATIONS,
        batch=BatchConsumer(
            topics=topics.ALL_TOPICS,
            max_records=settings.audit_batch_max_records,
            record=intake.record,
            title="audit:all-topics",
            description="Every record of every topic, recorded once in the hash-chained audit log.",
        ),
        database=AuditDatabase(settings),
        on_start=[intake.start],
        workers=[BackgroundWorker(CHECKPOINTS, open_checkpointer)] if intake.checkpoints_on() else [],
        gauges=[intake.refresh_gauges],
    )


def create_app(settings: AuditSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or AuditSettings()
    intake = AuditIntake(settings)
    app = build_app(definition(settings, intake), settings, clock)
    app.context.set_global("audit_intake", intake)
    return app


def audit_intake_of(app: FastStream) -> AuditIntake:
    """The running audit's own part (its recorder, its checkpoints), for tests and benchmarks."""
    intake: AuditIntake = app.context.get("audit_intake")
    return intake
