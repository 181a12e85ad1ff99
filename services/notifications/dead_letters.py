"""Rejections told to the publisher: the contact registered for a rejected event's source learns why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts import catalog, topics
from contracts import dead_letter_headers as dlq
from contracts.envelope import CloudEvent
from contracts.events.notifications import EventRejected
from runtime.db import Connection
from runtime.definition import Running
from runtime.logging import get_logger
from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming
from services.notifications import digests, domain, templates
from services.notifications.handlers import Deps
from services.notifications.repository import deliveries, subscriptions
from services.notifications.repository.rejections import Rejection

DELIVERY_WORKER = "delivery-worker"
"""The name the composition gives the delivery worker, so a new dead letter can wake it."""


async def notify_dead_letter(
    deps: Deps, conn: Connection, value: bytes | None, headers: Mapping[str, str], now: datetime
) -> int:
    """Tell the contact registered for a rejected event's source why it was rejected, once per event: its webhooks
    at once, its e-mail addresses in the source's next digest (see digests)."""
    log = get_logger(component="dead_letters", **{k: v for k, v in headers.items() if k.startswith("dlq-event")})
    source, event_id = headers.get(dlq.EVENT_SOURCE), headers.get(dlq.EVENT_ID)
    reason = headers.get(dlq.ERROR_CLASS, "unknown")
    if source is None or event_id is None:
        log.warning("dead_letter_without_identity")
        return 0
    event_type = headers.get(dlq.EVENT_TYPE)
    if domain.is_own_outcome(event_type, source, deps.own_source):
        return 0
    if not await deliveries.first_sight_of_dead_letter(conn, source, event_id, reason, now):
        log.info("dead_letter_duplicate")
        return 0
    subs = await subscriptions.load_subscriptions(conn)
    chosen = domain.recipients_for_source(subs, source)
    if not chosen:
        log.warning("dead_letter_source_has_no_contact")
        return 0
    message_text = headers.get(dlq.ERROR_MESSAGE, "")
    topic = headers.get(dlq.ORIGINAL_TOPIC, "")
    failed_at = headers.get(dlq.FAILED_AT, now.isoformat())
    points = domain.contact_points_of(subs, chosen)
    window = None
    if any(point.channel == "email" for _, point in points):
        rejection = Rejection(source, event_id, event_type, reason, message_text, topic, failed_at)
        window = await digests.note_rejection(conn, rejection, now, deps.rejection_window)
    created = 0
    hooks = [(recipient, point) for recipient, point in points if point.channel == "webhook"]
    if hooks:
        created = await _notify_webhooks(deps, conn, value, headers, now, hooks)
    log.info(
        "dead_letter_notifications_planned",
        recipients=[r.recipient_id for r in chosen],
        deliveries=created,
        digest=window,
    )
    return created


async def _notify_webhooks(
    deps: Deps,
    conn: Connection,
    value: bytes | None,
    headers: Mapping[str, str],
    now: datetime,
    hooks: list[tuple[domain.Recipient, domain.ContactPoint]],
) -> int:
    """One signed rejection notice per rejected event for each webhook of the source's contacts."""
    source, event_id = headers[dlq.EVENT_SOURCE], headers[dlq.EVENT_ID]
    reason = headers.get(dlq.ERROR_CLASS, "unknown")
    message = templates.render_dead_letter(
        reason=reason,
        message=headers.get(dlq.ERROR_MESSAGE, ""),
        event_id=event_id,
        event_source=source,
        event_type=headers.get(dlq.EVENT_TYPE),
        topic=headers.get(dlq.ORIGINAL_TOPIC, ""),
        failed_at=headers.get(dlq.FAILED_AT, now.isoformat()),
    )
    agreement_id = _agreement_of(value)
    document = rejection_notice(deps.own_source, headers, agreement_id, now)
    correlation_id = headers.get("correlationid") or f"deadletter:{event_id}"
    created = 0
    for recipient, point in hooks:
        row = deliveries.NewDelivery.to(
            recipient,
            point,
            about=(source, event_id, domain.DEAD_LETTER_TYPE),
            subject=message.subject,
            body=message.body,
            payload=document.to_bytes(),
            correlation_id=correlation_id,
            agreement_id=agreement_id,
            traceparent=headers.get("traceparent"),
        )
        created += await deliveries.add_delivery(conn, row, now)
    return created


def rejection_notice(
    own_source: str, headers: Mapping[str, str], agreement_id: str | None, now: datetime
) -> CloudEvent:
    """The webhook body telling a publishing system that its event was rejected, from the dead letter's headers."""
    source, event_id = headers[dlq.EVENT_SOURCE], headers[dlq.EVENT_ID]
    reason = headers.get(dlq.ERROR_CLASS, "unknown")
    kind = catalog.REJECTION_NOTICE
    data = EventRejected(
        rejected_event_source=source,
        rejected_event_id=event_id,
        rejected_event_type=headers.get(dlq.EVENT_TYPE),
        reason=reason,
        message=headers.get(dlq.ERROR_MESSAGE, ""),
        original_topic=headers.get(dlq.ORIGINAL_TOPIC, ""),
        original_partition=_count(headers.get(dlq.ORIGINAL_PARTITION)),
        original_offset=_count(headers.get(dlq.ORIGINAL_OFFSET)),
        failed_at=_instant(headers.get(dlq.FAILED_AT), now),
    )
    return CloudEvent(
        specversion="1.0",
        id=domain.notification_id(source, event_id, "deadletter", reason),
        source=own_source,
        type=kind.name,
        time=now,
        subject=f"rejected/{event_id}",
        dataschema=kind.dataschema,
        correlationid=headers.get("correlationid") or f"deadletter:{event_id}",
        partitionkey=topics.partition_key(agreement_id or "none", None),
        data=data.model_dump(mode="json"),
    )


def _count(header: str | None) -> int | None:
    return int(header) if header is not None and header.isdigit() else None


def _instant(header: str | None, default: datetime) -> datetime:
    try:
        found = datetime.fromisoformat(header) if header else default
    except ValueError:
        return default
    return found if found.tzinfo is not None else default


def _agreement_of(value: bytes | None) -> str | None:
    """Best effort, for the outcome event's partition key: the rejected event's agreement, if readable."""
    try:
        raw: Any = json.loads(value or b"")
        found = raw.get("data", {}).get("agreement_id") if isinstance(raw, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    return found if isinstance(found, str) and len(found) <= 80 else None


async def on_dead_letter(deps: Deps, running: Running, record: Incoming) -> None:
    """The dead-letter topic's raw handler: tell the publisher, once, in one transaction; then wake the delivery
    worker. A bug here must not stall the dead-letter topic: it is logged loudly and the record passed by."""
    headers = {k: (v or b"").decode(errors="replace") for k, v in record.headers}
    try:
        async with running.pool.acquire() as conn, conn.transaction():
            created = await notify_dead_letter(deps, conn, record.value, headers, running.clock.now())
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as error:
        get_logger(component="notifications").exception(
            "dead_letter_notify_failed", error_class=type(error).__name__, offset=record.offset
        )
        return
    if created:
        running.worker(DELIVERY_WORKER).wake()
