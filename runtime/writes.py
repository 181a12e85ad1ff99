"""Write-behind for a batch: the statements a handler makes and reads nothing back from, sent together before the
batch commits.

A handler that only records what an event says (an upsert, no read) spent a round trip per record on it, the
largest part of the evaluations service's handling of a meeting's events. Given to it as `HandlerContext.writes`,
such a statement waits for the end of the batch's pass, where the pass's statements go in the order they were made:
each run of the same statement with one `executemany`, which asyncpg pipelines in one round trip.

Only statements whose effect no handler of the same topic reads back before the batch ends may go through here:
the rows appear at the end of the pass, not at once. A pass with a savepoint per record runs them at once, inside
the record's savepoint, so a record whose statement fails is rolled back and dead-lettered alone; a pass without
savepoints whose deferred statements fail is rolled back and taken again with them, as when a handler fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, Protocol

from runtime.db import Connection

Deferred = tuple[str, tuple[Any, ...]]
"""A statement and its arguments."""


class Executes(Protocol):
    """Where a write-only statement goes: a connection, or `Writes`."""

    async def execute(self, query: str, *args: Any) -> object: ...


class Writes:
    """Where a handler's write-only statements go: at once (`later` None, in a pass with savepoints), or to the
    pass's list."""

    def __init__(self, conn: Connection, later: list[Deferred] | None) -> None:
        self._conn = conn
        self._later = later

    async def execute(self, query: str, *args: Any) -> None:
        """The statement, now or before the batch commits; either way inside the batch's transaction."""
        if self._later is None:
            await self._conn.execute(query, *args)
        else:
            self._later.append((query, args))


async def write_deferred(conn: Connection, deferred: Sequence[Deferred]) -> None:
    """The pass's deferred statements in the order they were made, each run of one statement in one round trip."""
    for query, run in groupby(deferred, key=lambda statement: statement[0]):
        await conn.executemany(query, [args for _, args in run])
