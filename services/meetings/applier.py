"""Carries out a domain decision inside the caller's transaction: repository writes, timers, outbox events."""

from __future__ import annotations

from datetime import datetime

import structlog

from runtime import timers
from runtime.db import Connection
from runtime.logging import get_logger
from runtime.outbox import Emitter
from runtime.writes import Executes
from services.meetings import repository
from services.meetings.decisions import (
    AddActionItem,
    Change,
    CloseActionItem,
    Decision,
    ForgetEarlyCompletion,
    MarkOverdue,
    RecordLevelHeld,
    RecordTermination,
    RememberCompletion,
    SaveMeeting,
)
from services.meetings.state import Meeting, OpenItem


async def apply(
    decision: Decision,
    *,
    conn: Connection,
    emitter: Emitter | None,
    now: datetime,
    log: structlog.stdlib.BoundLogger | None = None,
    writes: Executes | None = None,
) -> int:
    """Apply the decision in its documented order; returns how many pending timers it cancelled.

    The rows of the service's tables are written through `writes` when given (a batch's deferred statements,
    runtime.writes), in the decision's order; timers and events always at once."""
    rows: Executes = conn if writes is None else writes
    log = log or get_logger(component="meetings")
    for note in decision.notes:
        if note.level == "warning":
            log.warning(note.event, **note.fields)
        else:
            log.info(note.event, **note.fields)
    # New items are written together, in their place among the other changes, and with the meeting when they
    # follow its save (one statement); one that the same decision marks overdue (it was past due when assigned) is
    # written as overdue.
    saving: Meeting | None = None
    adding: dict[OpenItem, bool] = {}
    for change in decision.changes:
        if isinstance(change, AddActionItem):
            adding[change.item] = False
            continue
        if isinstance(change, MarkOverdue) and change.item in adding:
            adding[change.item] = True
            continue
        await _save(rows, saving, adding, now)
        saving, adding = None, {}
        if isinstance(change, SaveMeeting):
            saving = change.meeting
            continue
        await _change(rows, change, now)
    await _save(rows, saving, adding, now)
    cancelled = 0
    for cancel in decision.cancel:
        cancelled += await timers.cancel_prefix(conn, cancel.prefix, now, due_from=cancel.due_from)
    if decision.arm:
        await timers.schedule_many(conn, [(t.key, t.kind, t.due_at, t.payload) for t in decision.arm])
    for event in decision.emit:
        await _emitter(emitter).emit(
            event.data,
            agreement_id=event.agreement_id,
            region=event.region,
            subject=event.subject,
            business_key=event.business_key,
        )
    return cancelled


async def _save(writes: Executes, meeting: Meeting | None, items: dict[OpenItem, bool], now: datetime) -> None:
    """A meeting and the new items that follow it, in one statement; or new items alone."""
    if meeting is not None:
        await repository.save_meeting(writes, meeting, now, items)
    elif items:
        await repository.add_action_items(writes, items, now)


async def _change(writes: Executes, change: Change, now: datetime) -> None:
    """One change other than a meeting's save or a new item (`apply` writes those)."""
    match change:
        case CloseActionItem(item, completed, late):
            await repository.close_action_item(writes, item, completed, late)
        case MarkOverdue(item):
            await repository.mark_overdue(writes, item, now)
        case RememberCompletion(completed):
            await repository.remember_completion(writes, completed, now)
        case ForgetEarlyCompletion(agreement_id, action_item_id):
            await repository.forget_early_completion(writes, agreement_id, action_item_id)
        case RecordLevelHeld(agreement_id, region, held_on):
            await repository.record_level_held(writes, agreement_id, region, held_on, now)
        case RecordTermination(agreement_id, terminated_from, given_by, learnt_from):
            await repository.record_termination(writes, agreement_id, terminated_from, given_by, learnt_from, now)


def _emitter(emitter: Emitter | None) -> Emitter:
    if emitter is None:
        raise ValueError("a decision that emits events needs an emitter")
    return emitter
