"""Action items: assigned from held minutes, reminded through durable timers, closed on completion."""

from __future__ import annotations

from datetime import datetime

from contracts.events.meetings import ActionItemCompleted, ActionItemDueSoon, ActionItemOverdue
from contracts.reference import Agreement
from runtime import timers
from runtime.db import Connection
from runtime.logging import get_logger
from runtime.outbox import Emitter
from runtime.timers import TimerContext
from services.meetings import domain, repository, timing
from services.meetings.domain import OpenItem


def _subject(item: OpenItem) -> str:
    return f"action-item/{item.action_item_id}"


async def assign(
    conn: Connection, emitter: Emitter, agreement: Agreement, item: OpenItem, now: datetime, correlation_id: str
) -> None:
    """Assign the item; close it at once if its completion arrived first, otherwise arm its reminders."""
    await repository.add_action_item(conn, item, now)
    await emitter.emit(
        domain.assigned(item),
        agreement_id=item.agreement_id,
        region=item.region,
        subject=_subject(item),
        business_key=f"assigned/{item.action_item_id}",
    )
    early = await repository.take_early_completion(conn, item.agreement_id, item.action_item_id)
    if early is not None:
        if early.meeting_id == item.meeting_id:
            await _close(conn, emitter, item, early, now)
            return
        # The early completion named another meeting; it cannot be dead-lettered any more, so it is logged.
        get_logger(action_item_id=item.action_item_id).warning(
            "early_completion_discarded", completion_meeting_id=early.meeting_id, meeting_id=item.meeting_id
        )
    payload = {
        "agreement_id": item.agreement_id,
        "action_item_id": item.action_item_id,
        "correlation_id": correlation_id,
    }
    overdue_at = timing.overdue_at(item.due_on)
    if now < overdue_at:
        # An item already past due when it is assigned gets the overdue warning only, not a stale reminder.
        due_soon_key = timing.action_item_key(item.agreement_id, item.action_item_id, timing.DUE_SOON)
        await timers.schedule(conn, due_soon_key, timing.DUE_SOON, timing.due_soon_at(item.due_on, agreement), payload)
    overdue_key = timing.action_item_key(item.agreement_id, item.action_item_id, timing.OVERDUE)
    await timers.schedule(conn, overdue_key, timing.OVERDUE, overdue_at, payload)


async def complete(conn: Connection, emitter: Emitter, completed: ActionItemCompleted, now: datetime) -> None:
    item = await repository.load_action_item(conn, completed.agreement_id, completed.action_item_id)
    if item is None:
        await repository.remember_completion(conn, completed, now)
        return
    await _close(conn, emitter, item, completed, now)


async def _close(
    conn: Connection, emitter: Emitter, item: OpenItem, completed: ActionItemCompleted, now: datetime
) -> None:
    closed = domain.complete(item, completed)
    if closed is None:
        return
    await repository.close_action_item(conn, item, completed, closed.late)
    await timers.cancel_prefix(conn, timing.action_item_prefix(item.agreement_id, item.action_item_id), now)
    await emitter.emit(
        closed,
        agreement_id=item.agreement_id,
        region=item.region,
        subject=_subject(item),
        business_key=f"closed/{item.action_item_id}",
    )


async def _still_open(tctx: TimerContext) -> OpenItem | None:
    payload = tctx.timer.payload
    item = await repository.load_action_item(tctx.conn, payload["agreement_id"], payload["action_item_id"])
    return item if item is not None and item.completed_on is None else None


async def remind_owner_of_due_item(tctx: TimerContext) -> None:
    item = await _still_open(tctx)
    if item is None or tctx.now >= timing.overdue_at(item.due_on):
        # A reminder that fires late, after the item fell due, would only repeat the overdue warning.
        return
    await tctx.emitter.emit(
        ActionItemDueSoon.model_validate({**item.ref(), "days_left": timing.days_left(item.due_on, tctx.now)}),
        agreement_id=item.agreement_id,
        region=item.region,
        subject=_subject(item),
        business_key=f"due-soon/{item.action_item_id}",
    )


async def warn_of_overdue_item(tctx: TimerContext) -> None:
    item = await _still_open(tctx)
    if item is None:
        return
    await repository.mark_overdue(tctx.conn, item, tctx.now)
    await tctx.emitter.emit(
        ActionItemOverdue.model_validate(item.ref()),
        agreement_id=item.agreement_id,
        region=item.region,
        subject=_subject(item),
        business_key=f"overdue/{item.action_item_id}",
    )
