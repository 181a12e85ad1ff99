"""The delivery worker: loads a due delivery, attempts it through its channel, decides, and applies the decision.

Each delivery is one transaction: lock the row (FOR UPDATE SKIP LOCKED), send, then update the row and write
NotificationDelivered/NotificationFailed to the outbox, and commit. The one window in which a message can go
out twice is between the recipient accepting it and that commit (a crash or a lost database connection there
leaves the row pending, so it is sent again). The window is kept to one UPDATE, one INSERT and the COMMIT, and
a clean stop waits for the delivery in hand to be recorded (`runtime.tasks.WORKER_GRACE_SECONDS`).
A bug there (not the database going away) parks the row with `accepted_at` set, and its retry records the
delivery without sending the message again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

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
from services.notifications import attempts
from services.notifications.attempts import Decision, Delivered, Failed, Retry, Sent
from services.notifications.channels import Channel, Outgoing
from services.notifications.repository import deliveries
from services.notifications.repository.deliveries import DueDelivery
from services.notifications.settings import NotificationsSettings, SecretResolver

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
        secrets: SecretResolver,
        on_emitted: Callable[[], None] = lambda: None,
        observe: Callable[[str, str], None] = lambda channel, outcome: None,
    ) -> None:
        self._emitters = Emitters(settings.event_source, settings.topic, signer)
        self._pool = pool
        self._clock = clock
        self._s = settings
        self._channels = channels
        self._secrets = secrets
        self._policy = attempts.RetryPolicy(
            delays_seconds=settings.retry_delays_seconds,
            max_attempts=settings.max_attempts,
            horizon_seconds=settings.retry_horizon_seconds,
        )
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
        """Load, attempt, decide, apply, for one due delivery; False when none is due."""
        now = self._clock.now()
        due: DueDelivery | None = None
        sent: Sent | None = None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                due = await deliveries.claim_due(conn, now)
                if due is None:
                    return False
                sent = await self._attempt(due, now)
                decision = attempts.after_attempt(sent, due.attempts, due.first_attempt_at, now, self._policy)
                await self._apply(conn, due, decision, now)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:
            if due is None:
                raise
            # A bug on one row must not block the queue behind it: park the row and carry on with the next.
            self._log.exception(
                "delivery_crashed", notification_id=due.notification_id, error_class=type(error).__name__
            )
            self._observe("unknown", "crashed")
            accepted_at = now if sent is not None and sent.ok else None
            async with self._pool.acquire() as conn:
                await deliveries.park(
                    conn,
                    due.notification_id,
                    f"{type(error).__name__}: {error}"[: attempts.MAX_ERROR_LENGTH],
                    now + PARK_FOR,
                    accepted_at,
                )
        return True

    async def _attempt(self, due: DueDelivery, now: datetime) -> Sent:
        secret = self._secrets(due.signing_secret_env) if due.signing_secret_env else None
        known = attempts.known_without_sending(
            accepted_before=due.accepted_at is not None,
            contact_point_removed=due.contact_point_removed,
            channel=due.channel,
            secret_name=due.signing_secret_env,
            secret=secret,
        )
        if known is not None:
            return known
        outgoing = Outgoing(
            notification_id=due.notification_id,
            channel=due.channel,
            address=due.address,
            signing_secret=secret,
            subject=due.subject,
            body=due.body,
            payload=due.payload,
            timestamp=int(now.timestamp()),
        )
        return await self._channels[due.channel].send(outgoing)

    async def _apply(self, conn: Connection, due: DueDelivery, decision: Decision, now: datetime) -> None:
        """Record the decision on the row and, once the delivery is finished, tell it through the outbox."""
        await deliveries.record(conn, due.notification_id, decision)
        told = _told(due, decision)
        if told is not None:
            emitter = self._emitters.caused_by(
                conn,
                now,
                correlation_id=due.correlation_id,
                causation_id=due.about_event_id,
                traceparent=due.traceparent,
            )
            agreement_id = due.agreement_id or NO_AGREEMENT
            await emitter.emit(
                told, agreement_id=agreement_id, region=due.region, subject=f"notification/{due.notification_id}"
            )
        log = self._log.bind(
            notification_id=due.notification_id, recipient=due.recipient_id, attempts=decision.attempts
        )
        match decision:
            case Delivered():
                log.info("notification_delivered")
                self._observe(due.channel, "delivered")
            case Retry():
                next_at = decision.next_attempt_at.isoformat()
                log.warning("notification_retry_scheduled", error=decision.error, next_attempt_at=next_at)
                self._observe(due.channel, "retry_scheduled")
            case Failed():
                log.error("notification_failed", error=decision.error, permanent=decision.permanent)
                self._observe(due.channel, "failed")

    async def run(self) -> None:
        await poll(
            self.deliver_due,
            wakeup=self._wakeup,
            seconds=self._s.delivery_poll_seconds,
            stopping=lambda: self._stopping,
            failed="delivery_pass_failed",
            log=self._log,
        )


def _told(due: DueDelivery, decision: Decision) -> NotificationDelivered | NotificationFailed | None:
    """The event that tells a finished delivery; a scheduled retry tells nobody yet."""
    ref: dict[str, Any] = {
        "notification_id": due.notification_id,
        "about_event_id": due.about_event_id,
        "about_event_source": due.about_event_source,
        "about_event_type": due.about_event_type,
        "recipient": due.recipient_id,
        "channel": ChannelName(due.channel),
        "contact_point": due.contact_point_id,
        "attempts": decision.attempts,
    }
    match decision:
        case Delivered():
            return NotificationDelivered(**ref, delivered_at=decision.delivered_at)
        case Failed():
            return NotificationFailed(
                **ref, failed_at=decision.failed_at, permanent=decision.permanent, error=decision.error
            )
        case Retry():
            return None
