"""The audit service's database connections: bootstrap as the schema's owner, then work as the restricted writer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from runtime import db
from runtime.clock import Clock
from services.audit import checkpoints, repository
from services.audit.domain import ParsedText
from services.audit.settings import AuditSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def _jsonb_to_binary(value: Any) -> bytes:
    if isinstance(value, ParsedText):  # the record's own text, which PostgreSQL reads into the same value
        return b"\x01" + value.text
    return b"\x01" + json.dumps(value).encode()


def _jsonb_from_binary(value: bytes) -> Any:
    return json.loads(value[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values, in the binary wire format (version byte 1, then JSON) so COPY can carry it."""
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_to_binary, decoder=_jsonb_from_binary, schema="pg_catalog", format="binary"
    )


async def bootstrap(settings: AuditSettings) -> list[str]:
    """As the schema's owner: create the schema, apply migrations, and give the writer role only INSERT and SELECT."""
    admin = await db.create_pool(settings.owner_database_url, settings.schema_name, min_size=1, max_size=1)
    try:
        applied = await db.migrate(admin, [MIGRATIONS])
        async with admin.acquire() as conn, conn.transaction():
            await db.lock_schema(conn)
            await repository.grant_writer(
                conn, settings.schema_name, settings.audit_writer_role, settings.audit_writer_password
            )
            await repository.grant_readers(conn, settings.schema_name, settings.audit_reader_roles)
    finally:
        await admin.close()
    return applied


async def writer_pool(settings: AuditSettings, *, max_size: int = 4) -> asyncpg.Pool:
    """A pool connected as the restricted writer role, working inside the audit schema.

    Its statements are planned on every run (a few tenths of a millisecond a batch). PostgreSQL would otherwise keep
    one generic plan per statement after five runs, made for the log as it was then: planned while the log was
    nearly empty, the look-up of already recorded keys kept a sequential scan, and read the whole log for every
    batch as it grew (4-10 ms a batch at 10,000 records) until an autovacuum's ANALYZE happened to replace it."""
    pool = await asyncpg.create_pool(
        settings.writer_database_url,
        min_size=1,
        max_size=max_size,
        init=init_connection,
        reset=db.keep_session,
        server_settings={
            "search_path": settings.schema_name,
            "application_name": f"lhl-{settings.schema_name}",
            "plan_cache_mode": "force_custom_plan",
        },
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def reading_pool(settings: AuditSettings, database_url: str | None = None) -> AsyncIterator[asyncpg.Pool]:
    """For the operator's tool: the writer role by default, or another DSN (e.g. a read-only auditor's role)."""
    if database_url:
        pool = await asyncpg.create_pool(
            database_url,
            min_size=1,
            max_size=2,
            init=init_connection,
            reset=db.keep_session,
            server_settings={"search_path": settings.schema_name},
        )
        assert pool is not None
    else:
        pool = await writer_pool(settings, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def take_checkpoint(pool: asyncpg.Pool, settings: AuditSettings, clock: Clock) -> Path:
    """Sign the current record count and head hash and write them to the checkpoint folder."""
    if not settings.audit_signing_key:
        raise checkpoints.KeyLoadError("audit_signing_key: no signing key is configured (see docs/audit.md)")
    key = checkpoints.load_signing_key(settings.audit_signing_key)
    async with pool.acquire() as conn:
        count, head_hash = await repository.head(conn)
    directory = Path(settings.audit_checkpoint_dir)
    return checkpoints.write(directory, settings.schema_name, count, head_hash, clock.now(), key)
