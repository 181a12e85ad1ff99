"""The one place that builds `Emitter`s: the service's source, topic names and signing key, bound once, then an
emitter per cause (a consumed event, a fired timer, a delivery attempt) inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.signing import Signer
from runtime.db import Connection
from runtime.outbox import Emitter, Outgoing
from runtime.timers import Timer


@dataclass(frozen=True)
class Emitters:
    """What every event a service emits shares: who emits it, where each type goes, and the key that signs it."""

    source: str
    topic_of: Callable[[str], str]
    signer: Signer

    def caused_by(
        self,
        conn: Connection,
        now: datetime,
        *,
        correlation_id: str,
        causation_id: str | None,
        traceparent: str | None,
        rows: list[Outgoing] | None = None,
        sign_later: bool = False,
    ) -> Emitter:
        """An emitter for the events one cause leads to, written to the outbox in `conn`'s transaction (or added
        to `rows`, for the caller to write; with `sign_later`, unsigned)."""
        return Emitter(
            conn,
            source=self.source,
            topic_of=self.topic_of,
            now=now,
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=traceparent,
            signer=self.signer,
            rows=rows,
            sign_later=sign_later,
        )

    def for_timer(self, conn: Connection, timer: Timer, now: datetime, rows: list[Outgoing] | None = None) -> Emitter:
        """A fired timer's events continue the trace and correlation of what armed it, and name the timer as
        their cause."""
        payload = timer.payload
        return self.caused_by(
            conn,
            now,
            correlation_id=str(payload.get("correlation_id") or f"timer:{timer.key}"),
            causation_id=f"timer:{timer.key}",
            rows=rows,
            traceparent=payload.get("traceparent"),
        )
