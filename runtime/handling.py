"""What a handler gets of the pipeline, and how a record of a batch ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from runtime.db import Connection
from runtime.dead_lettering import Note
from runtime.inbox import Outcome
from runtime.outbox import Emitter


@dataclass
class HandlerContext:
    """What a handler gets: the open transaction, the event, the clock's now, and a way to emit."""

    conn: Connection
    event: CloudEvent
    now: datetime
    emitter: Emitter
    log: structlog.stdlib.BoundLogger

    async def emit(
        self,
        data: EventData,
        *,
        agreement_id: str,
        region: str | None,
        subject: str | None = None,
        business_key: str | None = None,
    ) -> CloudEvent:
        return await self.emitter.emit(
            data, agreement_id=agreement_id, region=region, subject=subject, business_key=business_key
        )


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
Observe = Callable[[str, str | None, str, str | None, float], None]
"""Called after each record's transaction committed: (topic, event type, outcome, dead-letter reason, seconds from
the start of its handling to its batch's commit)."""


@dataclass(frozen=True)
class Ended:
    """How one record of a batch ended, and the log line that says so once the batch's transaction committed."""

    outcome: Outcome
    event_type: str | None
    reason: str | None
    note: Note
