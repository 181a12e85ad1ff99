"""Composition root of the notifications service: `faststream run services.notifications.app:create_app --factory`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from faststream import FastStream

from contracts import reference, topics
from runtime.clock import Clock
from runtime.definition import BackgroundWorker, Running, ServiceDefinition
from runtime.records import Incoming
from runtime.webhook_targets import WebhookTargets
from runtime.wiring import build_app, runtime_of
from services.notifications import dead_letters, digests, handlers, seed
from services.notifications.channels import Channel, Email, Webhook
from services.notifications.delivery import DeliveryWorker
from services.notifications.handshake_worker import HANDSHAKE_WORKER, HandshakeWorker
from services.notifications.repository import http_subscriptions
from services.notifications.settings import NotificationsSettings, SecretResolver
from services.notifications.smtp_sessions import SmtpSessions

MIGRATIONS = Path(__file__).parent / "migrations"


def dependencies(settings: NotificationsSettings) -> handlers.Deps:
    known = reference.ReferenceData.load(settings.agreements_dir)
    return handlers.Deps(
        agreements=known.agreements,
        regions=known.regions,
        organisations=known.organisations,
        own_source=settings.event_source,
        rejection_window=timedelta(seconds=settings.rejection_digest_seconds),
    )


def delivery_worker(settings: NotificationsSettings, secrets: SecretResolver) -> BackgroundWorker:
    @contextlib.asynccontextmanager
    async def open_worker(running: Running) -> AsyncIterator[DeliveryWorker]:
        sessions = SmtpSessions(settings)
        async with (
            httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client,
            contextlib.aclosing(sessions),
        ):
            channels: dict[str, Channel] = {
                "email": Email(settings, sessions),
                "webhook": Webhook(client, WebhookTargets(settings.webhook_allowed_hosts)),
            }
            yield DeliveryWorker(
                running.pool,
                running.clock,
                settings,
                channels,
                signer=running.signer,
                secrets=secrets,
                on_emitted=running.wake_relay,
                observe=running.metrics.observe_delivery,
            )

    return BackgroundWorker(dead_letters.DELIVERY_WORKER, open_worker, copies=settings.delivery_concurrency)


def handshake_worker(settings: NotificationsSettings, deps: handlers.Deps, secrets: SecretResolver) -> BackgroundWorker:
    """Validates the HTTP subscriptions the gateway requests; signs its challenge with the organisation's secret,
    looked up through the same resolver the deliveries use."""

    @contextlib.asynccontextmanager
    async def open_worker(running: Running) -> AsyncIterator[HandshakeWorker]:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
            yield HandshakeWorker(
                running.pool,
                running.clock,
                settings,
                client,
                WebhookTargets(settings.webhook_allowed_hosts),
                deps.agreements.keys(),
                secrets=secrets,
            )

    return BackgroundWorker(HANDSHAKE_WORKER, open_worker)


def definition(settings: NotificationsSettings, deps: handlers.Deps, secrets: SecretResolver) -> ServiceDefinition:
    async def load_seed(running: Running) -> None:
        await seed.load(running, settings, secrets)

    async def grant_gateway(running: Running) -> None:
        # The gateway requests and removes HTTP subscriptions in this schema by column grants, given by the owner
        # of the table once its migration has run (the gateway may start first: it answers 503 until then).
        async with running.pool.acquire() as conn, conn.transaction():
            await http_subscriptions.grant_gateway(conn, settings.schema_name, settings.subscription_writer_roles)

    async def on_dead_letter(running: Running, record: Incoming) -> None:
        await dead_letters.on_dead_letter(deps, running, record)

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
        on_start=[load_seed, grant_gateway],
        workers=[delivery_worker(settings, secrets), handshake_worker(settings, deps, secrets)],
    )


def create_app(
    settings: NotificationsSettings | None = None, clock: Clock | None = None, secrets: SecretResolver | None = None
) -> FastStream:
    """`secrets` looks up webhook signing secrets by name; the service's environment unless a test gives its own."""
    settings = settings or NotificationsSettings()
    return build_app(definition(settings, dependencies(settings), secrets or settings.secret), settings, clock)


def delivery_worker_of(app: FastStream) -> DeliveryWorker:
    """The running service's delivery worker, for tests that drive a delivery pass themselves."""
    worker = runtime_of(app).worker(dead_letters.DELIVERY_WORKER)
    assert isinstance(worker, DeliveryWorker)
    return worker
