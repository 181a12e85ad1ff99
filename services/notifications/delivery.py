"""The delivery worker: claims due rows, sends, records the outcome and emits it through the outbox.

Each delivery is one transaction: lock the row (FOR UPDATE SKIP LOCKED), send, then update the row and write
NotificationDelivered/NotificationFailed to the outbox, and commit. The one window in which a message can go
out twice is between the recipient accepting it and that commit (a crash or a lost database connection there
leaves the row pending, so it is sent again). The window is kept to one UPDATE, one INSERT and the COMMIT.
A bug there (not the database going away) parks the row with `accepted_at` set, and its retry records the
delivery without sending the message again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import asyncpg

from contracts.events.notifications import Channel as ChannelName
from contracts.events.notifications import NotificationDelivered, NotificationFailed
from contracts.signing import Signer
from runtime.clock import Clock
from runtime.db import Connection
from runtime.emitters import Emitters
from runtime.logging import get_logger
from runtime.polling import INFRASTRUCTURE_ERRORS, poll
from runtime.wakeup import Wakeup
from services.notifications import domain
from services.notifications.channels import DELIVERED, Channel, Outgoing, Sent
from services.notifications.repository import deliveries
from services.notifications.settings import NotificationsSettings

NO_AGREEMENT = "none"
PARK_FOR = timedelta(minutes=30)


class DeliveryWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        settings: NotificationsSettings,
        channels: Mapping[str, Channel],
        signer: Signer,
        on_emitted: Callable[[], None] = lambda: None,
        observe: Callable[[str, str], None] = lambda channel, outcome: None,
    ) -> None:
        self._emitters = Emitters(settings.event_source, settings.topic, signer)
        self._pool = pool
        self._clock = clock
        self._s = settings
        self._channels = channels
        self._on_emitted = on_emitted
        self._observe = observe
        self._wakeup = Wakeup()
        self._stopping = False
        self._log = get_logger(component="delivery_worker")

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        """The loop ends after the delivery in hand, even if a library swallowed the task's cancellation."""
        self._stopping = True
        self._wakeup.set()

    async def deliver_due(self, limit: int = 100) -> int:
        """Deliver every row due at the clock's now, one transaction each; returns how many were attempted."""
        done = 0
        while done < limit and not self._stopping and await self.deliver_one():
            done += 1
        if done:
            self._on_emitted()
        return done

    async def deliver_one(self) -> bool:
        now = self._clock.now()
        claimed: str | None = None
        sent: Sent | None = None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await deliveries.claim_due(conn, now)
                if row is None:
                    return False
                claimed = row["notification_id"]
                outgoing = Outgoing(
                    notification_id=row["notification_id"],
                    channel=row["channel"],
                    address=row["address"],
                    signing_secret=os.environ.get(row["signing_secret_env"]) if row["signing_secret_env"] else None,
                    subject=row["subject"],
                    body=row["body"],
                    payload=bytes(row["payload"]),
                    timestamp=int(now.timestamp()),
                )
                if row["accepted_at"] is not None:
                    sent = DELIVERED  # accepted before a crash kept it from being recorded: never send it twice
                elif row["contact_point_removed"]:
                    sent = Sent(ok=False, error="the contact point was removed before delivery", permanent=True)
                elif row["channel"] == "webhook" and not outgoing.signing_secret:
                    # An operator can set it and restart the service, so the delivery is retried meanwhile.
                    sent = Sent(ok=False, error=f"{row['signing_secret_env']} is not set in the notifications service")
                else:
                    sent = await self._channels[row["channel"]].send(outgoing)
                await self._record(conn, row, sent, now)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:
            if claimed is None:
                raise
            # A bug on one row must not block the queue behind it: park the row and carry on with the next.
            self._log.exception("delivery_crashed", notification_id=claimed, error_class=type(error).__name__)
            self._observe("unknown", "crashed")
            accepted_at = now if sent is not None and sent.ok else None
            async with self._pool.acquire() as conn:
                await deliveries.park(
                    conn, claimed, f"{type(error).__name__}: {error}"[:1000], now + PARK_FOR, accepted_at
                )
        return True

    async def _record(self, conn: Connection, row: asyncpg.Record, sent: Sent, now: datetime) -> None:
        nid = row["notification_id"]
        attempts = row["attempts"] + 1
        first = row["first_attempt_at"] or now
        log = self._log.bind(notification_id=nid, recipient=row["recipient_id"], attempts=attempts)
        emitter = self._emitters.caused_by(
            conn,
            now,
            correlation_id=row["correlation_id"],
            causation_id=row["about_event_id"],
            traceparent=row["traceparent"],
        )
        ref = {
            "notification_id": nid,
            "about_event_id": row["about_event_id"],
            "about_event_source": row["about_event_source"],
            "about_event_type": row["about_event_type"],
            "recipient": row["recipient_id"],
            "channel": ChannelName(row["channel"]),
            "contact_point": row["contact_point_id"],
            "attempts": attempts,
        }
        where = {
            "agreement_id": row["agreement_id"] or NO_AGREEMENT,
            "region": row["region"],
            "subject": f"notification/{nid}",
        }
        if sent.ok:
            await deliveries.record_delivered(conn, nid, attempts, first, now)
            await emitter.emit(NotificationDelivered(**ref, delivered_at=now), **where)
            log.info("notification_delivered")
            self._observe(row["channel"], "delivered")
            return
        error = (sent.error or "unknown error")[:1000]
        next_at = None
        if not sent.permanent:
            next_at = domain.next_attempt_at(
                attempts,
                first,
                now,
                delays_seconds=self._s.retry_delays_seconds,
                max_attempts=self._s.max_attempts,
                horizon_seconds=self._s.retry_horizon_seconds,
            )
        if next_at is not None:
            await deliveries.record_retry(conn, nid, attempts, first, error, next_at)
            log.warning("notification_retry_scheduled", error=error, next_attempt_at=next_at.isoformat())
            self._observe(row["channel"], "retry_scheduled")
            return
        await deliveries.record_failed(conn, nid, attempts, first, error, sent.permanent, now)
        await emitter.emit(NotificationFailed(**ref, failed_at=now, permanent=sent.permanent, error=error), **where)
        log.error("notification_failed", error=error, permanent=sent.permanent)
        self._observe(row["channel"], "failed")

    async def run(self) -> None:
        await poll(
            self.deliver_due,
            wakeup=self._wakeup,
            seconds=self._s.delivery_poll_seconds,
            stopping=lambda: self._stopping,
            failed="delivery_pass_failed",
            log=self._log,
        )
