"""The gateway's SQL on the notifications service's HTTP subscriptions: only the columns that service grants it
(request, remove, read what is shown), always scoped to the calling organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from runtime.db import Connection


@dataclass(frozen=True)
class NewSubscription:
    subscription_id: str
    organisation: str
    endpoint: str
    event_types: tuple[str, ...]
    regions: tuple[str, ...]
    sources: tuple[str, ...]
    agreements: tuple[str, ...]


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: str
    endpoint: str
    event_types: tuple[str, ...]
    regions: tuple[str, ...]
    sources: tuple[str, ...]
    agreements: tuple[str, ...]
    status: str
    reason: str | None
    attempts: int
    created_at: datetime
    validated_at: datetime | None


_COLUMNS: Final = (
    "subscription_id, endpoint, event_types, regions, sources, agreements, status, reason, attempts, created_at,"
    " validated_at"
)


def _table(schema: str) -> str:
    """The schema name is checked by the settings' pattern, so it quotes safely."""
    return f'"{schema}".http_subscriptions'


def _row(r: asyncpg.Record) -> SubscriptionRow:
    return SubscriptionRow(
        r["subscription_id"],
        r["endpoint"],
        tuple(r["event_types"]),
        tuple(r["regions"]),
        tuple(r["sources"]),
        tuple(r["agreements"]),
        r["status"],
        r["reason"],
        r["attempts"],
        r["created_at"],
        r["validated_at"],
    )


async def count_of(conn: Connection, schema: str, organisation: str) -> int:
    found: int = await conn.fetchval(
        f"SELECT count(*) FROM {_table(schema)} WHERE organisation = $1 AND removed_at IS NULL", organisation
    )
    return found


async def request(conn: Connection, schema: str, new: NewSubscription) -> SubscriptionRow:
    row = await conn.fetchrow(
        f"INSERT INTO {_table(schema)} (subscription_id, organisation, endpoint, event_types, regions, sources,"
        f" agreements) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        new.subscription_id,
        new.organisation,
        new.endpoint,
        list(new.event_types),
        list(new.regions),
        list(new.sources),
        list(new.agreements),
    )
    assert row is not None
    return _row(row)


async def of_organisation(conn: Connection, schema: str, organisation: str) -> list[SubscriptionRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {_table(schema)} WHERE organisation = $1 AND removed_at IS NULL"
        " ORDER BY created_at, subscription_id",
        organisation,
    )
    return [_row(r) for r in rows]


async def one(conn: Connection, schema: str, organisation: str, subscription_id: str) -> SubscriptionRow | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM {_table(schema)}"
        " WHERE subscription_id = $1 AND organisation = $2 AND removed_at IS NULL",
        subscription_id,
        organisation,
    )
    return None if row is None else _row(row)


async def remove(conn: Connection, schema: str, organisation: str, subscription_id: str, now: datetime) -> bool:
    """Marks it removed; the notifications service then retires what it had become, and delivers nothing more."""
    result: str = await conn.execute(
        f"UPDATE {_table(schema)} SET removed_at = $3"
        " WHERE subscription_id = $1 AND organisation = $2 AND removed_at IS NULL",
        subscription_id,
        organisation,
        now,
    )
    return result.endswith(" 1")
