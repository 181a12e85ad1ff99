"""Carries out the timers `schedule` decided, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from runtime import timers
from runtime.db import Connection
from services.evaluations.schedule import TimerChanges


async def apply_timers(conn: Connection, changes: TimerChanges, now: datetime) -> None:
    for key in changes.cancel:
        await timers.cancel(conn, key, now)
    for planned in changes.arm:
        await timers.schedule(conn, planned.key, planned.kind, planned.due_at, planned.payload)
