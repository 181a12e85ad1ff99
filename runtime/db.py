"""The asyncpg pool and the plain-SQL migrations runner."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection

RUNTIME_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

Pool = asyncpg.Pool


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pools' reset on release: nothing more than asyncpg's own rollback of a transaction left open.

    asyncpg's default sends four statements on every release (unlock advisory locks, close cursors, unlisten, reset
    settings): a round trip each time a connection goes back, about 1.6 per held meeting at 100 a second. Nothing
    here leaves that state on a session: advisory locks are transaction-level, cursors live in transactions,
    nobody listens, and settings are the connection's own (`server_settings`), which RESET ALL keeps anyway.
    `tests/unit/test_session_state.py` keeps it so."""


class JsonText(str):
    """JSON already written (by pydantic's `model_dump_json`, say), which a json or jsonb parameter sends as it is;
    any other value is written with `json.dumps`. A held meeting's minutes cost 9.5 µs as `model_dump(mode="json")`
    and then `json.dumps`, 3.1 µs as `model_dump_json`."""


def _json_out(value: object) -> str:
    return value if isinstance(value, JsonText) else json.dumps(value)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_json_out, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10, generic_plans: bool = False
) -> Pool:
    """A pool whose connections work inside the service's own schema.

    `generic_plans` is for a consumer's pool, whose statements are prepared once and run for every record with
    keys that change nothing in the plan (primary keys, one row each). PostgreSQL would otherwise plan several of
    them again on every run (a custom plan); for the meetings service's load before minutes, five lookups in one
    statement, that planning was half the database's time per held meeting. An operator's filtered listing, where
    the values do change the plan, keeps the default."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            # IF NOT EXISTS is no lock: of two instances started at once, the second failed on the catalog's index.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", schema)  # lock_schema's, by its name
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=keep_session,
        server_settings={
            "search_path": schema,
            "application_name": f"lhl-{schema}",
            **({"plan_cache_mode": "force_generic_plan"} if generic_plans else {}),
        },
    )
    assert pool is not None
    return pool


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


async def still_usable(conn: Connection) -> None:
    """Raise (InFailedSQLTransactionError) when a statement failed in the open transaction and the error was
    swallowed: PostgreSQL would answer its COMMIT with a rollback, which asyncpg does not report."""
    await conn.execute("SELECT 1")


def storable(text: str) -> str:
    """The text with NUL and lone surrogates as U+FFFD: PostgreSQL's text and jsonb refuse both (and UTF-8, which
    Kafka headers carry, has no lone surrogates).

    ASCII text, nearly all of it, can hold only the NUL and is checked for that alone: the audit stores a dozen texts
    per record, and the expression over a signature's DSSE material (some 400 characters) took 1.7 µs, 0.07 without."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub("\ufffd", text)


async def close_pool(pool: Pool, timeout_seconds: float) -> None:
    """Close gracefully, waiting for connections in use to be released; past the timeout, terminate them."""
    try:
        async with asyncio.timeout(timeout_seconds):
            await pool.close()
    except TimeoutError:
        pool.terminate()


def _migration_files(directories: Sequence[Path]) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for directory in directories:
        files = sorted(p for p in directory.glob("*.sql") if _MIGRATION_FILE.match(p.name))
        found.extend((f"{directory.parent.name}/{p.stem}", p) for p in files)
    return found


async def lock_schema(conn: Connection) -> None:
    """Serialise, until the transaction ends, what instances of one service starting at once do to its schema
    (create it, migrate it, grant on it): `CREATE ... IF NOT EXISTS` and `GRANT` are no lock, and the second of two
    at once fails on a catalog's unique index or on a concurrently updated row. `create_pool` takes the same lock
    by the schema's name, before the schema exists to be current."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")


async def migrate(pool: Pool, directories: Sequence[Path]) -> list[str]:
    """Apply the numbered SQL files not yet applied, each in its own transaction; safe to run concurrently."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        async with conn.transaction():
            await lock_schema(conn)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        for name, path in _migration_files(directories):
            sql = path.read_text(encoding="utf-8")
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            async with conn.transaction():
                await lock_schema(conn)
                done = await conn.fetchval("SELECT checksum FROM schema_migrations WHERE name = $1", name)
                if done is not None:
                    if done != checksum:
                        raise RuntimeError(f"migration {name} changed after it was applied; add a new file instead")
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum)
                applied.append(name)
    return applied


async def pending_migrations(pool: Pool, directories: Sequence[Path]) -> list[str]:
    async with pool.acquire() as conn:
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")} if exists else set()
    return [name for name, _ in _migration_files(directories) if name not in done]
