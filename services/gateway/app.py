"""Composition root of the gateway: `uvicorn services.gateway.app:create_app --factory` (what `lhl run` starts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from contracts import reference, topics
from contracts.envelope import CloudEvent
from contracts.reference import ReferenceData
from contracts.signing import Signer
from lhl import access, services
from runtime import db
from runtime.kafka_admin import ensure_topics
from runtime.logging import configure_logging, get_logger
from services.gateway import feed, health, problems, publish, receipts, subscriptions
from services.gateway.auth import TokenVerifier
from services.gateway.problems import Problem
from services.gateway.resources import GatewayMetrics, Resources
from services.gateway.settings import GatewaySettings

MIGRATIONS = Path(__file__).parent / "migrations"
TITLE = "Leve hele livet: HTTP gateway"
VERSION = "1.0.0"
DESCRIPTION = (
    "Publish CloudEvents over HTTPS, ask for an event's receipt, follow the audit trail as a feed, subscribe a "
    "webhook to events (validated by a challenge before the first delivery). Callers "
    "authenticate with an OAuth2 bearer token of the configured issuer (Maskinporten-like): the organisation's "
    "number in `consumer.ID`, the scopes in `scope`. Every refusal is an RFC 9457 problem document."
)


def may_send(event_type: str, organisation: reference.Organisation) -> bool:
    return access.SENDERS[event_type](organisation)


async def _open(settings: GatewaySettings) -> Resources:
    """Everything a request needs, opened once; the signing key is the gateway's own, never an organisation's."""
    deps = ReferenceData.load(settings.agreements_dir)
    verifier = TokenVerifier(
        TokenVerifier.load_jwks(settings.token_jwks_file, settings.token_jwks),
        settings.token_issuer,
        settings.token_audience,
        settings.token_algorithms,
        settings.token_leeway_seconds,
        deps.organisations,
    )
    signer = Signer.from_file(settings.signing_key_path)
    pool = await db.create_pool(settings.database_url, settings.schema_name)
    applied = await db.migrate(pool, [MIGRATIONS])
    get_logger().info("migrations_applied", applied=applied, schema=settings.schema_name)
    await ensure_topics(settings.kafka, [settings.topic(t) for t in topics.INGRESS_TOPICS], settings.topic_partitions)
    producer = AIOKafkaProducer(
        **settings.kafka.options(), acks="all", enable_idempotence=True, client_id="lhl-gateway", linger_ms=2
    )
    await producer.start()
    return Resources(
        settings=settings,
        verifier=verifier,
        pool=pool,
        producer=producer,
        signer=signer,
        checks=services.admission(deps),
        may_send=may_send,
        metrics=GatewayMetrics(),
    )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    s = settings or GatewaySettings()
    configure_logging(s.service_name, s.log_level, s.log_format)
    return build(s)


def build(s: GatewaySettings) -> FastAPI:
    """The application; nothing opens before its lifespan starts, so the OpenAPI document needs no broker."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await _open(s)
        app.state.resources = resources
        get_logger().info("service_started", service=s.service_name)
        try:
            yield
        finally:
            await resources.producer.stop()
            await db.close_pool(resources.pool, 10.0)

    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION, lifespan=lifespan)
    app.add_exception_handler(Problem, problems.handle)
    app.add_exception_handler(Exception, problems.handle_unexpected)
    app.include_router(publish.router)
    app.include_router(receipts.router)
    app.include_router(feed.router)
    app.include_router(subscriptions.router)
    app.include_router(health.router)
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


def openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the CloudEvent the request bodies refer to."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["CloudEvent"] = CloudEvent.model_json_schema(ref_template="#/components/schemas/{model}")
        app.openapi_schema = document
    return app.openapi_schema
