"""What a request handler is given: the gateway's resources, and the verified caller with the scope it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, Histogram

from contracts.signing import Signer
from runtime.admission import Check
from runtime.db import Pool
from services.gateway.auth import Caller, TokenVerifier, lacking_scope
from services.gateway.judging import MaySend
from services.gateway.settings import PUBLISH_SCOPE, READ_SCOPE, GatewaySettings


class GatewayMetrics:
    """One registry per gateway, so that tests may run several in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "lhl_gateway_events",
            "Events posted, by outcome (accepted, duplicate, rejected, forbidden, conflict).",
            ["outcome"],
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "lhl_gateway_publish_duration_seconds",
            "From a POST /events request to its answer, for the answers that accept (202).",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )


@dataclass(frozen=True)
class Resources:
    settings: GatewaySettings
    verifier: TokenVerifier
    pool: Pool
    producer: AIOKafkaProducer
    signer: Signer
    checks: Mapping[str, Check]
    may_send: MaySend
    metrics: GatewayMetrics


# Dependencies are coroutines: FastAPI runs a plain `def` dependency in a worker thread, and two thread hops per
# request cost more than the work itself (about a quarter of the gateway's CPU per event in a py-spy profile).
async def _resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


Res = Annotated[Resources, Depends(_resources)]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An OAuth2 access token of the configured issuer (Maskinporten or the local one), with the "
    "organisation's number in consumer.ID and the operation's scope in `scope`.",
)


def needs(scope: str) -> Callable[[Res, HTTPAuthorizationCredentials | None], Awaitable[Caller]]:
    async def caller(
        resources: Res, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Caller:
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        found = resources.verifier.verify(header)
        if scope not in found.scopes:
            raise lacking_scope(scope)
        return found

    return caller


Publisher = Annotated[Caller, Depends(needs(PUBLISH_SCOPE))]
Reader = Annotated[Caller, Depends(needs(READ_SCOPE))]
