"""Thin handlers: load, let the domain and `schedule` decide, apply (repository writes, timers, events)."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import reference, topics
from contracts.events.evaluations import (
    AnnualEvaluationCompleted,
    RegionalReportReceived,
    RegionalStatusReportSubmitted,
    TerminationNoticeAccepted,
    TerminationNoticeGiven,
)
from contracts.events.meetings import (
    ActionItemAssigned,
    ActionItemClosed,
    ActionItemDueSoon,
    ActionItemOverdue,
    ContactMeetingRecorded,
    ContactMeetingsOverdue,
)
from contracts.rejections import Reason, Rejected
from runtime.handling import Handler, HandlerContext
from runtime.routing import by_event_type
from services.evaluations import applier, domain, meetings_repository, repository, schedule
from services.evaluations.dates import is_late, oslo_day

Deps = reference.ReferenceData
"""The reference data the handlers validate against."""


async def receive_report(deps: Deps, ctx: HandlerContext, report: RegionalStatusReportSubmitted) -> None:
    agreement = deps.agreement(report.agreement_id)  # checks.admission has checked the report itself
    domain.check_report_owed(report, agreement, await repository.term_state(ctx.conn, agreement.id))
    known = await repository.report_subject(ctx.conn, agreement.id, report.report_id)
    if known is not None:
        if known != (report.region, report.reporting_date):
            raise Rejected(
                Reason.INVALID_DATA,
                f"data.report_id: '{report.report_id}' is already the report of '{known[0]}' for {known[1]}",
            )
        # The same submission re-sent under a new event id: already in the audit trail, no second effect.
        ctx.log.info("report_already_received", report_id=report.report_id)
        return
    supersedes = await repository.latest_report_id(ctx.conn, agreement.id, report.region, report.reporting_date)
    late = is_late(report.reporting_date, ctx.now)
    await repository.add_report(
        ctx.conn, report, received_at=ctx.now, late=late, supersedes=supersedes, event_id=ctx.event.id
    )
    await ctx.emitter.emit(
        RegionalReportReceived(
            report_id=report.report_id,
            agreement_id=agreement.id,
            region=report.region,
            reporting_date=report.reporting_date,
            late=late,
            supersedes=supersedes,
        ),
        agreement_id=agreement.id,
        region=report.region,
        subject=f"report/{report.region}/{report.reporting_date.isoformat()}",
        business_key=f"received/{report.report_id}",
    )


async def accept_termination_notice(deps: Deps, ctx: HandlerContext, notice: TerminationNoticeGiven) -> None:
    agreement = deps.agreement(notice.agreement_id)
    term = await repository.term_state(ctx.conn, agreement.id)
    today = oslo_day(ctx.now)
    if not domain.check_termination(notice, agreement, today, term):
        ctx.log.info("termination_notice_repeated", given_by=notice.given_by)
        return
    await repository.accept_notice(
        ctx.conn, agreement.id, notice.given_by, notice.notice_date, notice.effective_date, ctx.event.id, ctx.now
    )
    changes = schedule.after_termination_notice(
        agreement, notice.effective_date, notice.given_by, ctx.event.correlationid
    )
    await applier.apply_timers(ctx.conn, changes, ctx.now)
    await ctx.emitter.emit(
        TerminationNoticeAccepted(
            agreement_id=agreement.id,
            given_by=notice.given_by,
            notice_date=notice.notice_date,
            effective_date=notice.effective_date,
        ),
        agreement_id=agreement.id,
        region=None,
        subject=f"agreement/{agreement.id}",
        business_key="termination-notice-accepted",
    )


async def complete_evaluation(deps: Deps, ctx: HandlerContext, completed: AnnualEvaluationCompleted) -> None:
    agreement = deps.agreement(completed.agreement_id)  # checks.admission has checked the completion itself
    if not await repository.complete_evaluation(ctx.conn, completed):
        ctx.log.info("evaluation_already_completed", year=completed.year)
        return
    await applier.apply_timers(ctx.conn, schedule.after_evaluation_completed(agreement.id, completed.year), ctx.now)


async def record_meeting_seen(deps: Deps, ctx: HandlerContext, meeting: ContactMeetingRecorded) -> None:
    await meetings_repository.record_meeting(ctx.writes, meeting)


async def record_item_assigned(deps: Deps, ctx: HandlerContext, item: ActionItemAssigned) -> None:
    await meetings_repository.record_action_item(ctx.writes, item)


async def record_item_overdue(deps: Deps, ctx: HandlerContext, item: ActionItemOverdue) -> None:
    # Overdue because the meetings service says so: its domain owns the rule.
    await meetings_repository.record_action_item(ctx.writes, item, overdue=True)


async def record_item_closed(deps: Deps, ctx: HandlerContext, item: ActionItemClosed) -> None:
    await meetings_repository.record_action_item(ctx.writes, item, closed_on=item.completed_on)


async def ignore_meetings_event(
    deps: Deps, ctx: HandlerContext, event: ActionItemDueSoon | ContactMeetingsOverdue
) -> None:
    """Meetings events the evaluation packet does not need; registered so they are not dead-lettered."""


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Topic -> event type -> handler; each handler's event types come from its annotation."""
    return {
        topics.REPORTS_INGRESS: by_event_type(deps, receive_report),
        topics.AGREEMENT_INGRESS: by_event_type(deps, accept_termination_notice, complete_evaluation),
        topics.MEETINGS_EVENTS: by_event_type(
            deps,
            record_meeting_seen,
            record_item_assigned,
            record_item_overdue,
            record_item_closed,
            ignore_meetings_event,
        ),
    }
