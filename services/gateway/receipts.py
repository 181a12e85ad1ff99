"""`GET /events/{source}/{id}`: what became of an event, read from what the system already records (the audit trail).

The status model of eFormidling, in this system's terms: `accepted` (on the broker, not yet in the audit trail),
`received` (recorded by the audit), `processed` (the owning service derived events from it), `rejected` (a service
dead-lettered it, or it did not verify; with the reason). Each event it caused is listed with the notifications'
delivery outcomes for it, all found under the event's correlation id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from contracts import catalog
from contracts.events.notifications import NotificationDelivered, NotificationFailed
from services.gateway import problems, repository
from services.gateway.problems import Problem
from services.gateway.repository import TrailRow
from services.gateway.resources import Reader, Res

router = APIRouter(tags=["receipts"])

DELIVERED: Final = catalog.of(NotificationDelivered).name
FAILED: Final = catalog.of(NotificationFailed).name
Status = Literal["accepted", "received", "processed", "rejected"]


class Rejection(BaseModel):
    reason: str = Field(description="The reason code, as in the dead letters (see the contract's table of reasons).")
    message: str = Field(description="What was wrong and where, with field paths.")
    recorded_at: datetime = Field(description="When the audit recorded the rejection.")


class Delivery(BaseModel):
    recipient: str = Field(description="Who was told (an organisation or publishing system).")
    channel: str = Field(description="email or webhook.")
    outcome: Literal["delivered", "failed"] = Field(description="Whether the contact point accepted the message.")
    at: datetime = Field(description="When it was delivered, or when delivery gave up.")


class Caused(BaseModel):
    id: str = Field(description="The caused event's id.")
    source: str = Field(description="Its source: the service that derived it.")
    type: str = Field(description="Its type.")
    recorded_at: datetime = Field(description="When the audit recorded it.")
    deliveries: list[Delivery] = Field(description="Notifications about it, with their outcomes.")


class Receipt(BaseModel):
    id: str = Field(description="The event's id.")
    source: str = Field(description="The event's source.")
    type: str | None = Field(description="The event's type, when known.")
    status: Status = Field(description="accepted, received, processed or rejected.")
    received_at: datetime | None = Field(description="When the audit recorded the event.")
    rejections: list[Rejection] = Field(description="Why it was rejected, when it was.")
    caused: list[Caused] = Field(description="The events it caused (by causation id), with their deliveries.")
    deliveries: list[Delivery] = Field(description="Notifications about the event itself, with their outcomes.")


def _deliveries(about: TrailRow, correlated: list[TrailRow]) -> list[Delivery]:
    found = []
    for row in correlated:
        data = (row.envelope or {}).get("data") or {}
        if row.event_type not in (DELIVERED, FAILED) or data.get("about_event_id") != about.event_id:
            continue
        if data.get("about_event_source") != about.source:
            continue
        delivered = row.event_type == DELIVERED
        found.append(
            Delivery(
                recipient=str(data.get("recipient")),
                channel=str(data.get("channel")),
                outcome="delivered" if delivered else "failed",
                at=data.get("delivered_at" if delivered else "failed_at") or row.recorded_at,
            )
        )
    return found


def receipt_of(source: str, event_id: str, records: list[TrailRow], correlated: list[TrailRow]) -> Receipt:
    """The receipt from the audit's records of the event and of its correlation (pure, for a test to read)."""
    event = next((r for r in records if r.kind == "event"), None)
    rejections = [
        Rejection(reason=r.reason or "unknown", message=r.reason_message or "", recorded_at=r.recorded_at)
        for r in records
        if r.kind in ("dead_letter", "unauthenticated")
    ]
    caused = [
        Caused(
            id=r.event_id,
            source=r.source,
            type=r.event_type or "",
            recorded_at=r.recorded_at,
            deliveries=_deliveries(r, correlated),
        )
        for r in correlated
        if event is not None
        and (r.envelope or {}).get("causationid") == event_id
        and r.event_type not in (DELIVERED, FAILED)
    ]
    status: Status = "rejected" if rejections else "processed" if caused else "received" if event else "accepted"
    return Receipt(
        id=event_id,
        source=source,
        type=(event or records[0]).event_type if records else None,
        status=status,
        received_at=event.recorded_at if event else None,
        rejections=rejections,
        caused=caused,
        deliveries=_deliveries(event, correlated) if event else [],
    )


@router.get(
    "/events/{source:path}/{event_id}",
    summary="The receipt of an event of the caller's organisation",
    responses={
        401: problems.response_schema("No valid bearer token."),
        403: problems.response_schema("The token lacks lhl:events.read, or the source is another organisation's."),
        404: problems.response_schema("No event of this source and id was accepted or recorded."),
    },
)
async def get_receipt(source: str, event_id: str, caller: Reader, resources: Res) -> Receipt:
    """`source` is the event's source without its leading slash, as the 202's status link has it."""
    full = "/" + source.removeprefix("/")
    if not caller.may_publish_as(full):
        raise problems.forbidden(
            f"source: {full!r} is not registered for {caller.organisation.id}; a caller sees receipts of its own "
            "organisation's events only"
        )
    schema = resources.settings.audit_schema
    async with resources.pool.acquire() as conn:
        records = await repository.records_of(conn, schema, full, event_id)
        event = next((r for r in records if r.kind == "event" and r.envelope), None)
        correlation = (event.envelope or {}).get("correlationid") if event else None
        correlated = await repository.correlated(conn, schema, correlation) if isinstance(correlation, str) else []
        if not records and not await repository.was_accepted(conn, full, event_id):
            raise Problem(404, "unknown_event", "No such event", f"no event {event_id!r} of {full!r} is known")
    return receipt_of(full, event_id, records, correlated)
