"""Health and metrics on the gateway's own server, at the paths every service serves them on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from prometheus_client.exposition import choose_encoder

from contracts.topics import MEETINGS_INGRESS
from services.gateway.resources import Res

router = APIRouter(tags=["operations"])


@router.get("/health/live", summary="The process answers")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/health/ready", summary="The database and the broker answer", responses={503: {"description": "Not"}})
async def ready(resources: Res) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with resources.pool.acquire() as conn:
            checks["database"] = await conn.fetchval("SELECT true") is True
    except Exception:  # any failure to answer is "not ready", never a crash of the probe
        checks["database"] = False
    try:
        probe = resources.settings.topic(MEETINGS_INGRESS)
        checks["broker"] = bool(await resources.producer.partitions_for(probe))
    except Exception:  # as above
        checks["broker"] = False
    ok = all(checks.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(resources: Res, accept: Annotated[str, Header()] = "") -> Response:
    encode, content_type = choose_encoder(accept)
    return Response(encode(resources.metrics.registry), media_type=content_type)
