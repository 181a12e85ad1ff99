"""Composition root of the notifications service: `faststream run services.notifications.app:create_app --factory`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
from faststream import FastStream

from contracts import reference, topics
from runtime.clock import Clock
from runtime.logging import get_logger
from runtime.pipeline import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming
from runtime.service import (
    STOP_TIMEOUT_SECONDS,
    RawHandler,
    ServiceDefinition,
    ServiceRuntime,
    build_app,
    runtime_of,
)
from runtime.tasks import stop_tasks
from runtime.webhook_targets import WebhookTargets
from services.notifications import dead_letters, digests, handlers, seed
from services.notifications.channels import Email, Webhook
from services.notifications.delivery import DeliveryWorker
from services.notifications.handshake_worker import HandshakeWorker
from services.notifications.repository import http_subscriptions
from services.notifications.settings import NotificationsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def definition(settings: NotificationsSettings, deps: handlers.Deps, on_dead_letter: RawHandler) -> ServiceDefinition:
    return ServiceDefinition(
        name="notifications",
        description="Tells every party of each step once, by e-mail or signed webhook, and publishers of rejections.",
        migrations=MIGRATIONS,
        consumes=handlers.routes(deps),
        publishes=(topics.NOTIFICATIONS_EVENTS, topics.DEAD_LETTER),
        # The evaluations service owns the agreement ingress and dead-letters what is wrong there; a second
        # dead letter for the same event would only be noise.
        secondary=frozenset({topics.AGREEMENT_INGRESS}),
        # The dead-letter topic carries the original bytes (maybe not JSON), so it bypasses the CloudEvents
        # pipeline; its publishers are told why, deduplicated in the handler's own transaction.
        raw={topics.DEAD_LETTER: on_dead_letter},
        timers={digests.TIMER_KIND: digests.tell_rejections(settings.rejection_digest_max_listed)},
    )


class Lifecycle:
    """What the runtime does not start for us: the seed upsert, the delivery worker and its HTTP client."""

    def __init__(self, runtime: ServiceRuntime, settings: NotificationsSettings, deps: handlers.Deps) -> None:
        self.runtime = runtime
        self.settings = settings
        self.deps = deps
        self.worker: DeliveryWorker | None = None
        self.handshakes: HandshakeWorker | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._log = get_logger(component="notifications")

    async def load_seed(self) -> None:
        if not self.settings.subscriptions_seed:
            return
        parsed = seed.read(Path(self.settings.subscriptions_seed))
        async with self.runtime.pool.acquire() as conn, conn.transaction():
            targets = WebhookTargets(self.settings.webhook_allowed_hosts)
            skipped = await seed.apply(conn, parsed, self.runtime.clock.now(), targets)
        self._log.info("subscriptions_seeded", recipients=len(parsed.recipients), skipped_webhooks=skipped)

    async def grant_gateway(self) -> None:
        async with self.runtime.pool.acquire() as conn, conn.transaction():
            await http_subscriptions.grant_gateway(
                conn, self.settings.schema_name, self.settings.subscription_writer_roles
            )

    async def start_worker(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False)
        relay = self.runtime.relay
        self.worker = DeliveryWorker(
            self.runtime.pool,
            self.runtime.clock,
            self.settings,
            {
                "email": Email(self.settings),
                "webhook": Webhook(self._client, WebhookTargets(self.settings.webhook_allowed_hosts)),
            },
            signer=self.runtime.signer,
            on_emitted=relay.wake if relay is not None else lambda: None,
            observe=self.runtime.metrics.observe_delivery,
        )
        worker = self.worker
        self._tasks = [
            asyncio.create_task(worker.run(), name=f"delivery-worker-{n}")
            for n in range(self.settings.delivery_concurrency)
        ]
        self.handshakes = HandshakeWorker(
            self.runtime.pool,
            self.runtime.clock,
            self.settings,
            self._client,
            WebhookTargets(self.settings.webhook_allowed_hosts),
            self.deps.agreements.keys(),
        )
        self._tasks.append(asyncio.create_task(self.handshakes.run(), name="handshake-worker"))

    async def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.handshakes is not None:
            self.handshakes.stop()
        stuck = await stop_tasks(self._tasks, limit_seconds=STOP_TIMEOUT_SECONDS)
        if stuck:
            self._log.warning("task_stop_timeout", tasks=stuck)
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def on_dead_letter(self, record: Incoming) -> None:
        headers = {k: (v or b"").decode(errors="replace") for k, v in record.headers}
        try:
            async with self.runtime.pool.acquire() as conn, conn.transaction():
                created = await dead_letters.notify_dead_letter(
                    self.deps, conn, record.value, headers, self.runtime.clock.now()
                )
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:
            # Dead letters must not stall on a bug here: log loudly and move on.
            self._log.exception("dead_letter_notify_failed", error_class=type(error).__name__, offset=record.offset)
            return
        if created and self.worker is not None:
            self.worker.wake()


def create_app(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or NotificationsSettings()
    known = reference.ReferenceData.load(settings.agreements_dir)
    deps = handlers.Deps(
        agreements=known.agreements,
        regions=known.regions,
        organisations=known.organisations,
        own_source=settings.event_source,
        rejection_window=timedelta(seconds=settings.rejection_digest_seconds),
    )
    lifecycle: Lifecycle | None = None

    async def on_dead_letter(record: Incoming) -> None:
        assert lifecycle is not None
        await lifecycle.on_dead_letter(record)

    app = build_app(definition(settings, deps, on_dead_letter), settings, clock)
    lifecycle = Lifecycle(runtime_of(app), settings, deps)
    app.on_startup(lifecycle.load_seed)
    app.on_startup(lifecycle.grant_gateway)
    app.after_startup(lifecycle.start_worker)
    app.on_shutdown(lifecycle.stop_worker)
    app.context.set_global("notifications", lifecycle)
    return app


def lifecycle_of(app: FastStream) -> Lifecycle:
    found: Lifecycle = app.context.get("notifications")
    return found
