"""Thin handlers, each in three steps: load what the rules need, let the domain decide, apply the decision."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from contracts import reference, topics
from contracts.events.evaluations import AgreementTerminated, TerminationNoticeAccepted
from contracts.events.meetings import (
    ActionItemCompleted,
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
)
from runtime.handling import Handler, HandlerContext
from runtime.routing import by_event_type
from runtime.timers import TimerContext, TimerHandler
from services.meetings import applier, checks, domain, read_ahead, repository, timing, watch
from services.meetings.decisions import Decision

Deps = reference.ReferenceData
"""The reference data the handlers validate against."""


async def _apply(ctx: HandlerContext, decision: Decision, *, deferred: bool = False) -> int:
    """Carry out the decision; with `deferred`, its rows go with the batch's deferred writes (`ctx.writes`)."""
    writes = ctx.writes if deferred else None
    return await applier.apply(decision, conn=ctx.conn, emitter=ctx.emitter, now=ctx.now, log=ctx.log, writes=writes)


async def _apply_timer(tctx: TimerContext, decision: Decision) -> None:
    await applier.apply(decision, conn=tctx.conn, emitter=tctx.emitter, now=tctx.now)


async def plan_meeting(
    deps: Deps, ctx: HandlerContext, event: ContactMeetingScheduled | ContactMeetingRescheduled
) -> None:
    # checks.admission has checked the event against the reference data; a termination is the service's to know.
    agreement = deps.agreement(event.agreement_id)
    terminated_from = await repository.terminated_from(ctx.conn, agreement.id)
    checks.check_within_agreement(
        "data.scheduled_for", timing.oslo_date(event.scheduled_for), agreement, terminated_from
    )
    current = await repository.load_meeting(ctx.conn, event.agreement_id, event.meeting_id)
    await _apply(ctx, domain.plan_meeting(current, event, ctx.event.time))


async def cancel_meeting(deps: Deps, ctx: HandlerContext, event: ContactMeetingCancelled) -> None:
    current = await repository.load_meeting(ctx.conn, event.agreement_id, event.meeting_id)
    await _apply(ctx, domain.cancel_meeting(current, event))


async def record_held_meeting(deps: Deps, ctx: HandlerContext, minutes: ContactMeetingHeld) -> None:
    agreement = deps.agreement(minutes.agreement_id)
    before, ahead = await read_ahead.before_minutes(ctx, minutes)
    checks.check_within_agreement("data.held_on", minutes.held_on, agreement, before.terminated_from)
    decision = domain.hold_meeting(
        before.meeting,
        minutes,
        agreement=agreement,
        known=before.known,
        early=before.early,
        level_held_before=before.level_held_before,
        last_day=timing.last_day(agreement, before.terminated_from),
        now=ctx.now,
        correlation_id=ctx.event.correlationid,
    )
    if ahead is not None:
        ahead.decided(decision)
    await _apply(ctx, decision, deferred=ahead is not None)


async def complete_action_item(deps: Deps, ctx: HandlerContext, completed: ActionItemCompleted) -> None:
    item = await repository.load_action_item(ctx.conn, completed.agreement_id, completed.action_item_id)
    await _apply(ctx, domain.complete_item(item, completed))


async def note_termination(
    deps: Deps, ctx: HandlerContext, event: TerminationNoticeAccepted | AgreementTerminated
) -> None:
    """From an accepted termination's effective date on, no meeting is accepted and no level is watched.

    The notice is accepted months before it takes effect, so the watch stops before a gap after the end could
    fire; AgreementTerminated says the same again on the day, for a service that missed the notice.
    """
    agreement = deps.agreement(event.agreement_id)
    known = await repository.terminated_from(ctx.conn, agreement.id)
    in_force, decision = watch.note_termination(
        agreement.id, known, event.effective_date, event.given_by, ctx.event.type
    )
    cancelled = await _apply(ctx, decision)
    ctx.log.info("agreement_termination_noted", terminated_from=in_force.isoformat(), watches_cancelled=cancelled)


async def remind_owner_of_due_item(tctx: TimerContext) -> None:
    payload = tctx.timer.payload
    item = await repository.load_action_item(tctx.conn, payload["agreement_id"], payload["action_item_id"])
    await _apply_timer(tctx, domain.remind_of_due_item(item, tctx.now))


async def warn_of_overdue_item(tctx: TimerContext) -> None:
    payload = tctx.timer.payload
    item = await repository.load_action_item(tctx.conn, payload["agreement_id"], payload["action_item_id"])
    await _apply_timer(tctx, domain.warn_of_overdue_item(item))


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Topic -> event type -> handler; each handler's event types come from its annotation."""
    return {
        topics.MEETINGS_INGRESS: by_event_type(
            deps, plan_meeting, cancel_meeting, record_held_meeting, complete_action_item
        ),
        # Owned by the evaluations service, which dead-letters what is wrong there.
        topics.EVALUATIONS_EVENTS: by_event_type(deps, note_termination),
    }


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    async def warn_of_missing_contact_meetings(tctx: TimerContext) -> None:
        payload = tctx.timer.payload
        agreement = deps.agreements[payload["agreement_id"]]
        region: str | None = payload["region"]
        watched_from = date.fromisoformat(payload["last_held_on"]) if payload["last_held_on"] else None
        latest = await repository.last_held_on(tctx.conn, agreement.id, region)
        await _apply_timer(
            tctx, watch.warn_of_missing_meetings(agreement, region, watched_from, latest, tctx.timer.key)
        )

    return {
        timing.DUE_SOON: remind_owner_of_due_item,
        timing.OVERDUE: warn_of_overdue_item,
        timing.CONTACT_MEETINGS_OVERDUE: warn_of_missing_contact_meetings,
    }
