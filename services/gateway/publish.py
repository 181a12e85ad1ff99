"""`POST /events`: one CloudEvent or a batch, judged as the receiving service will, on the broker before the 202."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final
from urllib.parse import quote

import structlog
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.envelope import BATCH_CONTENT_TYPE, CONTENT_TYPE
from contracts.rejections import Rejected
from runtime.admission import media_type
from runtime.json_reading import read_json
from runtime.logging import get_logger
from services.gateway import problems, repository
from services.gateway.auth import Caller
from services.gateway.judging import Forbidden, Judged, judge
from services.gateway.problems import FieldProblem, Problem
from services.gateway.repository import NewAccepted
from services.gateway.resources import Publisher, Res, Resources

router = APIRouter(tags=["publish"])


def _log() -> structlog.stdlib.BoundLogger:
    """Made at each use, so that it follows the logging the composition root configured (not the import's)."""
    return get_logger(component="publish")


ACCEPTED_TYPES: Final = (CONTENT_TYPE, BATCH_CONTENT_TYPE)


class AcceptedEvent(BaseModel):
    id: str = Field(description="The event's id.")
    source: str = Field(description="The event's source.")
    type: str = Field(description="The event's type.")
    status: str = Field(description="Where its receipt is: received, processed or rejected, and what it caused.")
    duplicate: bool = Field(description="True when this event had been accepted before (a retry): not sent again.")


class AcceptedBatch(BaseModel):
    accepted: list[AcceptedEvent] = Field(description="Every event of the batch, in the order posted.")


def status_path(source: str, event_id: str) -> str:
    """The receipt's path: the source's segments after `/events/`, then the id as one segment."""
    return f"/events/{quote(source.removeprefix('/'), safe='/')}/{quote(event_id, safe='')}"


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes the limit rather than after holding all of it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> Problem:
    return Problem(413, "body_too_large", "The request body is too large", f"{size} bytes; at most {limit} accepted")


_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "One CloudEvent in structured mode, or a JSON array of them (batch mode). Send the event "
        "unsigned: the gateway signs what it accepts and adds the authcontext of the caller's token.",
        "content": {
            CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
            BATCH_CONTENT_TYPE: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/CloudEvent"}}},
        },
    }
}


@router.post(
    "/events",
    status_code=202,
    summary="Publish one event, or a batch",
    response_model=AcceptedEvent | AcceptedBatch,
    responses={
        400: problems.response_schema("The contract refuses an event: each wrong field and why."),
        401: problems.response_schema("No valid bearer token."),
        403: problems.response_schema("The token lacks the scope, or its organisation may not send this."),
        409: problems.response_schema("An event of this source and id was accepted before with another body."),
        413: problems.response_schema("The body or the batch is too large."),
        415: problems.response_schema("Not a CloudEvents JSON content type."),
        503: problems.response_schema("The broker did not acknowledge in time; retry the same request."),
    },
    openapi_extra=_BODY,
)
async def post_events(request: Request, caller: Publisher, resources: Res) -> JSONResponse:
    """Each event passes the checks of the service that owns its type (schema, reference data, who may send it)
    and is on the broker, acknowledged by every in-sync replica, before the answer. Retrying the same request is
    safe: an event of the same source and id and the same body is not published again."""
    started = time.perf_counter()
    batch = _is_batch(request.headers.get("content-type"))
    body = await read_body(request, resources.settings.max_body_bytes)
    posted = _events_of(body, batch, resources.settings.max_batch_events)
    judged = _judge_all(posted, caller, resources, batch)
    outcomes = await _publish(judged, caller, resources)
    accepted = [
        AcceptedEvent(
            id=j.event.id,
            source=j.event.source,
            type=j.event.type,
            status=status_path(j.event.source, j.event.id),
            duplicate=duplicate,
        )
        for j, duplicate in outcomes
    ]
    for judged_event, duplicate in outcomes:
        resources.metrics.events.labels("duplicate" if duplicate else "accepted").inc()
        _log().info(
            "event_duplicate" if duplicate else "event_accepted",
            event_id=judged_event.event.id,
            source=judged_event.event.source,
            event_type=judged_event.event.type,
            organisation=caller.organisation.id,
            token_id=caller.token_id,
        )
    resources.metrics.publish_seconds.observe(time.perf_counter() - started)
    if batch:
        return JSONResponse(AcceptedBatch(accepted=accepted).model_dump(), status_code=202)
    return JSONResponse(accepted[0].model_dump(), status_code=202, headers={"Location": accepted[0].status})


def _is_batch(content_type: str | None) -> bool:
    try:
        kind = media_type(content_type or "", "content-type")
    except Rejected as error:
        raise Problem(415, "unsupported_media_type", "The content type is not accepted", error.message) from error
    if kind not in ACCEPTED_TYPES:
        raise Problem(
            415,
            "unsupported_media_type",
            "The content type is not accepted",
            f"content-type {kind or '(none)'!r}; send {CONTENT_TYPE} (one event) or {BATCH_CONTENT_TYPE} (a batch)",
        )
    return kind == BATCH_CONTENT_TYPE


def _events_of(body: bytes, batch: bool, max_batch: int) -> list[Any]:
    try:
        parsed = read_json(body, "the body")
    except Rejected as error:
        raise problems.rejected([(None, error)]) from error
    if not batch:
        return [parsed]
    if not isinstance(parsed, list) or not parsed:
        raise Problem(
            400, "not_a_batch", "The body is not a batch", f"{BATCH_CONTENT_TYPE}: expected a JSON array of events"
        )
    if len(parsed) > max_batch:
        raise Problem(
            413, "batch_too_large", "The batch is too large", f"{len(parsed)} events; at most {max_batch} per batch"
        )
    return parsed


def _judge_all(posted: list[Any], caller: Caller, resources: Resources, batch: bool) -> list[Judged]:
    """Every event judged before any is sent: a batch is published whole or not at all."""
    judged: list[Judged] = []
    refused: list[tuple[int | None, Rejected]] = []
    forbidden: list[FieldProblem] = []
    for index, item in enumerate(posted):
        at = index if batch else None
        try:
            judged.append(judge(item, caller, resources.checks, resources.may_send, resources.signer))
        except Forbidden as error:
            forbidden += problems.field_problems(str(error), at)
        except Rejected as error:
            refused.append((at, error))
    if forbidden:
        resources.metrics.events.labels("forbidden").inc(len(forbidden))
        _log().info("events_forbidden", organisation=caller.organisation.id, problems=[p.detail for p in forbidden])
        raise problems.forbidden(
            forbidden[0].detail if len(forbidden) == 1 else f"{len(forbidden)} events may not be sent by this caller",
            forbidden,
        )
    if refused:
        resources.metrics.events.labels("rejected").inc(len(refused))
        reasons = [r.reason.value for _, r in refused]
        _log().info("events_rejected", organisation=caller.organisation.id, reasons=reasons)
        raise problems.rejected(refused)
    seen: set[tuple[str, str]] = set()
    for index, j in enumerate(judged):
        key = (j.event.source, j.event.id)
        if key in seen:
            raise Problem(
                400,
                "duplicate_in_batch",
                "The batch repeats an event",
                f"id: {j.event.id!r} of {j.event.source!r} appears more than once in the batch",
                errors=[FieldProblem(field="id", detail="appears more than once in the batch", index=index)],
            )
        seen.add(key)
    return judged


async def _publish(judged: list[Judged], caller: Caller, resources: Resources) -> list[tuple[Judged, bool]]:
    """Sends what was not accepted before and records it in the same transaction as the locks that keep a
    concurrent retry from sending it too; what was accepted before with another body is a conflict."""
    keys = [(j.event.source, j.event.id) for j in judged]
    settings = resources.settings
    async with resources.pool.acquire() as conn, conn.transaction():
        await repository.lock(conn, keys)
        known = await repository.already_accepted(conn, keys)
        conflicts = [j for j in judged if (k := (j.event.source, j.event.id)) in known and known[k].digest != j.digest]
        if conflicts:
            resources.metrics.events.labels("conflict").inc(len(conflicts))
            raise Problem(
                409,
                "conflicting_retry",
                "An event of this source and id was accepted with another body",
                "an event's id must be new for each new event; a retry must send the same event",
                errors=[FieldProblem(field="id", detail=f"{j.event.id!r} of {j.event.source!r}") for j in conflicts],
            )
        fresh = [j for j in judged if (j.event.source, j.event.id) not in known]
        try:
            async with asyncio.timeout(settings.send_timeout_seconds):
                pending = [
                    await resources.producer.send(
                        settings.topic(j.topic),
                        j.event.to_bytes(),
                        key=j.event.partitionkey.encode(),
                        headers=[(name, value.encode()) for name, value in j.event.kafka_headers().items()],
                    )
                    for j in fresh
                ]
                sent = await asyncio.gather(*pending)
        except (KafkaError, TimeoutError) as error:
            raise Problem(
                503,
                "broker_unavailable",
                "The broker did not acknowledge the events",
                f"nothing was recorded as accepted ({type(error).__name__}); retry the same request",
                headers={"Retry-After": "1"},
            ) from error
        await repository.record_accepted(
            conn,
            [
                NewAccepted(
                    j.event.source,
                    j.event.id,
                    j.digest,
                    j.event.type,
                    caller.organisation.id,
                    j.topic,
                    meta.partition,
                    meta.offset,
                )
                for j, meta in zip(fresh, sent, strict=True)
            ],
        )
    return [(j, (j.event.source, j.event.id) in known) for j in judged]
