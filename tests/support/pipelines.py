"""A bare database with only the runtime's tables, and a consume pipeline over it with one handler for held
meetings, verifying and signing with the tests' keys as a service does: for tests of the runtime's own batches,
timers and tries, without a service around them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg

from contracts import catalog
from runtime import db
from runtime.check_processes import CheckProcesses
from runtime.clock import ManualClock
from runtime.handling import Handler
from runtime.pipeline import Pipeline
from runtime.verification import EventVerifier, TrustedKeys
from tests.support.events import national_meeting_held
from tests.support.infra import Infra
from tests.support.signing import keys_for_tests

HELD = catalog.of(type(national_meeting_held())).name


@contextlib.asynccontextmanager
async def runtime_pool(infra: Infra, schema: str, *statements: str) -> AsyncIterator[db.Pool]:
    """A pool on a schema with the runtime's migrations applied, then `statements` (a test's own table)."""
    created = await db.create_pool(infra.database_url, schema)
    try:
        await db.migrate(created, [db.RUNTIME_MIGRATIONS])
        for statement in statements:
            await created.execute(statement)
        yield created
    finally:
        await created.close()


def held_meeting_pipeline(
    pool: asyncpg.Pool, handler: Handler, *, name: str, max_tries: int, checks_elsewhere: CheckProcesses | None = None
) -> Pipeline:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    keys = keys_for_tests()
    return Pipeline(
        pool=pool,
        clock=clock,
        group_id=f"lhl-{name}",
        source=f"/lhl/{name}",
        topic_of=lambda topic: topic,
        handlers={HELD: handler},
        verifier=EventVerifier(TrustedKeys.installed(keys.registry), clock),
        signer=keys.ensure_service("meetings"),
        max_tries=max_tries,
        checks_elsewhere=checks_elsewhere,
    )
