"""Thin handlers: validate against reference data, apply the domain's rules, save, emit through the outbox."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import catalog, reference, topics
from contracts.events.evaluations import AgreementTerminated, TerminationNoticeAccepted
from contracts.events.meetings import (
    ActionItemCompleted,
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
)
from runtime.pipeline import Handler, HandlerContext
from runtime.timers import TimerHandler
from services.meetings import action_items, checks, domain, levels, repository, timing
from services.meetings.domain import Meeting

Deps = reference.ReferenceData
"""The reference data the handlers validate against."""


async def _record(ctx: HandlerContext, current: Meeting | None, updated: Meeting) -> None:
    """Save and announce the meeting's state, but only when the event changed it."""
    if updated == current:
        ctx.log.info("meeting_unchanged", meeting_id=updated.meeting_id, status=updated.status)
        return
    await repository.save_meeting(ctx.conn, updated, ctx.now)
    if current is not None and updated.recorded() == current.recorded():
        return  # A detail consumers do not see (e.g. the title of a late scheduling) changed.
    await ctx.emit(
        updated.recorded(),
        agreement_id=updated.agreement_id,
        region=updated.region,
        subject=f"meeting/{updated.meeting_id}",
        business_key=f"recorded/{updated.meeting_id}",
    )


async def plan_meeting(
    deps: Deps, ctx: HandlerContext, event: ContactMeetingScheduled | ContactMeetingRescheduled
) -> None:
    # checks.admission has checked the event against the reference data; a termination is the service's to know.
    agreement = deps.agreement(event.agreement_id)
    terminated_from = await repository.terminated_from(ctx.conn, agreement.id)
    on = timing.oslo_date(event.scheduled_for)
    checks.check_within_agreement("data.scheduled_for", on, agreement, terminated_from)
    current = await repository.load_meeting(ctx.conn, event.agreement_id, event.meeting_id)
    await _record(ctx, current, domain.schedule(current, event, ctx.event.time))


async def cancel_meeting(deps: Deps, ctx: HandlerContext, event: ContactMeetingCancelled) -> None:
    current = await repository.load_meeting(ctx.conn, event.agreement_id, event.meeting_id)
    await _record(ctx, current, domain.cancel(current, event))


async def record_held_meeting(deps: Deps, ctx: HandlerContext, meeting: ContactMeetingHeld) -> None:
    agreement = deps.agreement(meeting.agreement_id)
    terminated_from = await repository.terminated_from(ctx.conn, agreement.id)
    checks.check_within_agreement("data.held_on", meeting.held_on, agreement, terminated_from)
    current = await repository.load_meeting(ctx.conn, meeting.agreement_id, meeting.meeting_id)
    updated = domain.hold(current, meeting)
    ids = [a.action_item_id for a in meeting.action_items]
    fresh = domain.items_to_assign(meeting, await repository.known_action_items(ctx.conn, meeting.agreement_id, ids))
    await _record(ctx, current, updated)
    for item in fresh:
        await action_items.assign(ctx.conn, ctx.emitter, agreement, item, ctx.now, ctx.event.correlationid)
    counts, region = levels.level_of(meeting.kind, meeting.region)
    if counts:
        last_day = timing.last_day(agreement, terminated_from)
        await levels.note_held(ctx.conn, agreement, region, meeting.held_on, ctx.now, ctx.event.correlationid, last_day)


async def complete_action_item(deps: Deps, ctx: HandlerContext, completed: ActionItemCompleted) -> None:
    await action_items.complete(ctx.conn, ctx.emitter, completed, ctx.now)


async def note_termination(
    deps: Deps, ctx: HandlerContext, event: TerminationNoticeAccepted | AgreementTerminated
) -> None:
    """From an accepted termination's effective date on, no meeting is accepted and no level is watched.

    The notice is accepted months before it takes effect, so the watch stops before a gap after the end could
    fire; AgreementTerminated says the same again on the day, for a service that missed the notice.
    """
    agreement = deps.agreement(event.agreement_id)
    in_force = await repository.record_termination(
        ctx.conn, agreement.id, event.effective_date, event.given_by, ctx.event.type, ctx.now
    )
    cancelled = await levels.stop_watching_after(ctx.conn, agreement, in_force, ctx.now)
    ctx.log.info("agreement_termination_noted", terminated_from=in_force.isoformat(), watches_cancelled=cancelled)


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Topic -> event type -> handler, bound to their dependencies."""

    async def on_scheduled(ctx: HandlerContext, data: ContactMeetingScheduled) -> None:
        await plan_meeting(deps, ctx, data)

    async def on_rescheduled(ctx: HandlerContext, data: ContactMeetingRescheduled) -> None:
        await plan_meeting(deps, ctx, data)

    async def on_cancelled(ctx: HandlerContext, data: ContactMeetingCancelled) -> None:
        await cancel_meeting(deps, ctx, data)

    async def on_held(ctx: HandlerContext, data: ContactMeetingHeld) -> None:
        await record_held_meeting(deps, ctx, data)

    async def on_completed(ctx: HandlerContext, data: ActionItemCompleted) -> None:
        await complete_action_item(deps, ctx, data)

    async def on_termination(ctx: HandlerContext, data: TerminationNoticeAccepted | AgreementTerminated) -> None:
        await note_termination(deps, ctx, data)

    return {
        topics.MEETINGS_INGRESS: {
            catalog.of(ContactMeetingScheduled).name: on_scheduled,
            catalog.of(ContactMeetingRescheduled).name: on_rescheduled,
            catalog.of(ContactMeetingCancelled).name: on_cancelled,
            catalog.of(ContactMeetingHeld).name: on_held,
            catalog.of(ActionItemCompleted).name: on_completed,
        },
        # Owned by the evaluations service, which dead-letters what is wrong there.
        topics.EVALUATIONS_EVENTS: {
            catalog.of(TerminationNoticeAccepted).name: on_termination,
            catalog.of(AgreementTerminated).name: on_termination,
        },
    }


def timer_handlers(deps: Deps) -> dict[str, TimerHandler]:
    return {
        timing.DUE_SOON: action_items.remind_owner_of_due_item,
        timing.OVERDUE: action_items.warn_of_overdue_item,
        timing.CONTACT_MEETINGS_OVERDUE: levels.contact_meetings_overdue_handler(deps.agreements),
    }
