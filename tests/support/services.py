"""Running a service in-process against the real broker and database, isolated by a topic prefix and schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from faststream import FastStream

from runtime.lifecycle import ServiceRuntime
from runtime.settings import RuntimeSettings
from runtime.wiring import runtime_of
from tests.support.infra import Infra
from tests.support.signing import keys_for_tests

S = TypeVar("S", bound=RuntimeSettings)


def settings_for(cls: type[S], infra: Infra, run_id: str, **overrides: Any) -> S:
    name = overrides.get("service_name", cls.model_fields["service_name"].default)
    keys = keys_for_tests()
    keys.ensure_service(name)
    values: dict[str, Any] = {
        # No credentials: each service's own (LHL_<SERVICE>_KAFKA_*, LHL_<SERVICE>_DATABASE_URL) come from the
        # environment, so a test exercises the least privilege the service has in production.
        "keys_dir": str(keys.directory),
        "kafka_bootstrap_servers": infra.kafka_bootstrap_servers,
        "db_schema": f"t{run_id}_{name}",
        "topic_prefix": f"t{run_id}.",
        "outbox_poll_seconds": 0.1,
        "timer_poll_seconds": 0.1,
        "log_format": "json",
        "gc_tuning": False,  # many services in the test process, which must not freeze its heap again and again
    }
    values.update(overrides)
    return cls(**values)


def playing(infra: Infra, service: str) -> dict[str, Any]:
    """Settings overrides for a test's own service that stands in for a real one: that one's principal and role."""
    kafka = infra.service_kafka(service)
    return {
        "kafka_username": kafka.username,
        "kafka_password": kafka.password,
        "database_url": infra.service_database_url(service),
    }


@asynccontextmanager
async def running(app: FastStream) -> AsyncIterator[ServiceRuntime]:
    """Start the app's broker, subscribers, relay and timers; stop them cleanly afterwards."""
    await app.start()
    try:
        yield runtime_of(app)
    finally:
        await app.stop()


async def fetch(runtime: ServiceRuntime, query: str, *args: Any) -> list[asyncpg.Record]:
    async with runtime.pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
