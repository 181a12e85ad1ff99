"""Carries out the timers `schedule` decided, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from runtime import timers
from runtime.db import Connection
from services.evaluations.schedule import TimerChanges


async def apply_timers(conn: Connection, changes: TimerChanges, now: datetime) -> None:
    for key in changes.cancel:
        await timers.cancel(conn, key, now)
    if changes.arm:
        await timers.schedule_many(conn, [(p.key, p.kind, p.due_at, p.payload) for p in changes.arm])
