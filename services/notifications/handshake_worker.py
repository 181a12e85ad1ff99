"""The handshake worker: asks each pending subscription's endpoint to echo a challenge, activates the ones that do,
and retires what removed subscriptions had become. One subscription per transaction, locked with SKIP LOCKED, so
several instances of the service can run side by side."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection
from typing import Final

import asyncpg
import httpx

from runtime import webhook_targets
from runtime.clock import Clock
from runtime.logging import get_logger
from runtime.polling import poll
from runtime.wakeup import Wakeup
from runtime.webhook_targets import TargetRefused, WebhookTargets
from services.notifications import handshake
from services.notifications.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from services.notifications.repository import http_subscriptions
from services.notifications.repository.http_subscriptions import PendingSubscription
from services.notifications.settings import NotificationsSettings, SecretResolver

HANDSHAKE_WORKER: Final = "handshake-worker"


class HandshakeWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        settings: NotificationsSettings,
        client: httpx.AsyncClient,
        targets: WebhookTargets,
        known_agreements: Collection[str],
        secrets: SecretResolver,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._s = settings
        self._client = client
        self._targets = targets
        self._agreements = tuple(known_agreements)
        self._secrets = secrets
        self._wakeup = Wakeup()
        self._stopping = False
        self._log = get_logger(component="handshake_worker")

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def check_due(self, limit: int = 100) -> int:
        """Retire removed subscriptions, then ask every endpoint whose check is due; returns how many were asked."""
        async with self._pool.acquire() as conn, conn.transaction():
            retired = await http_subscriptions.retire_removed(conn, self._clock.now())
        if retired:
            self._log.info("http_subscriptions_retired", subscriptions=retired)
        asked = 0
        while asked < limit and not self._stopping and await self.check_one():
            asked += 1
        return asked

    async def check_one(self) -> bool:
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            sub = await http_subscriptions.claim_pending(conn, now)
            if sub is None:
                return False
            log = self._log.bind(subscription_id=sub.subscription_id, organisation=sub.organisation)
            refused, permanent = await self._ask(sub)
            if refused is None:
                recipient, point = handshake.as_recipient(
                    sub.subscription_id, sub.organisation, sub.endpoint, sub.agreements, self._agreements
                )
                await http_subscriptions.activate(conn, sub, point, recipient, now)
                log.info("http_subscription_activated")
                return True
            attempts = sub.attempts + 1
            next_at = None
            if not permanent:
                next_at = handshake.next_check_at(
                    attempts,
                    now,
                    max_attempts=self._s.subscription_check_attempts,
                    retry_seconds=self._s.subscription_check_retry_seconds,
                )
            await http_subscriptions.record_check(conn, sub.subscription_id, attempts, refused, next_at)
            log.warning("http_subscription_not_validated", reason=refused, attempts=attempts, failed=next_at is None)
        return True

    async def _ask(self, sub: PendingSubscription) -> tuple[str | None, bool]:
        """Why the endpoint did not validate (None: it did), and whether asking again cannot help."""
        variable = handshake.secret_env_of(sub.organisation)
        secret = self._secrets(variable)
        if not secret:
            # Set it (the organisation's secret agreed at onboarding) and the next check goes through.
            return f"{variable} is not set in the notifications service", False
        try:
            target = await self._targets.pin(httpx.URL(sub.endpoint))
        except TargetRefused as refused:
            return f"webhook address refused: {refused}", True
        except (OSError, httpx.InvalidURL) as error:
            return f"the endpoint's host does not resolve: {error}", False
        now = self._clock.now()
        challenge = secrets.token_urlsafe(24)
        body = handshake.request(
            sub.subscription_id,
            challenge,
            event_id=str(uuid.uuid4()),
            source=self._s.event_source,
            endpoint=sub.endpoint,
            now=now,
        )
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/cloudevents+json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            handshake.SUBSCRIPTION_HEADER: sub.subscription_id,
        }
        try:
            answer = await webhook_targets.post(self._client, target, body, headers)
        except httpx.HTTPError as error:
            return f"the validation request failed: {type(error).__name__}: {error}", False
        if answer.cut:
            limit = webhook_targets.ANSWER_LIMIT_BYTES
            return f"the endpoint's answer is longer than {limit} bytes; answer 200 with the challenge only", False
        return handshake.refusal(answer.status, answer.body, challenge), False

    async def run(self) -> None:
        await poll(
            self.check_due,
            wakeup=self._wakeup,
            seconds=self._s.subscription_check_poll_seconds,
            stopping=lambda: self._stopping,
            failed="handshake_pass_failed",
            log=self._log,
        )
