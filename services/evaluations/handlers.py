"""Thin handlers: validate against the agreement and reference data, call the domain, save, emit."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import catalog, reference, topics
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
from runtime import timers
from runtime.pipeline import Handler, HandlerContext
from services.evaluations import domain, meetings_repository, repository, schedule
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
    await ctx.emit(
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
    # Timers at or after the effective date would announce duties that no longer exist.
    remaining = {t.key for t in schedule.plan(agreement, notice.effective_date)}
    for planned in schedule.plan(agreement):
        if planned.key not in remaining:
            await timers.cancel(ctx.conn, planned.key, ctx.now)
    ending = schedule.termination_timer(agreement.id, notice.effective_date, ctx.event.correlationid)
    payload = {**ending.payload, "given_by": notice.given_by}
    await timers.schedule(ctx.conn, ending.key, ending.kind, ending.due_at, payload)
    await ctx.emit(
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
    await timers.cancel(ctx.conn, schedule.evaluation_overdue_key(agreement.id, completed.year), ctx.now)


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Topic -> event type -> handler, bound to their dependencies."""

    async def on_report(ctx: HandlerContext, data: RegionalStatusReportSubmitted) -> None:
        await receive_report(deps, ctx, data)

    async def on_notice(ctx: HandlerContext, data: TerminationNoticeGiven) -> None:
        await accept_termination_notice(deps, ctx, data)

    async def on_completed(ctx: HandlerContext, data: AnnualEvaluationCompleted) -> None:
        await complete_evaluation(deps, ctx, data)

    async def on_meeting(ctx: HandlerContext, data: ContactMeetingRecorded) -> None:
        await meetings_repository.record_meeting(ctx.conn, data)

    async def on_assigned(ctx: HandlerContext, data: ActionItemAssigned) -> None:
        await meetings_repository.record_action_item(ctx.conn, data)

    async def on_overdue(ctx: HandlerContext, data: ActionItemOverdue) -> None:
        await meetings_repository.record_action_item(ctx.conn, data, overdue=True)

    async def on_closed(ctx: HandlerContext, data: ActionItemClosed) -> None:
        await meetings_repository.record_action_item(ctx.conn, data, closed_on=data.completed_on)

    async def ignore(ctx: HandlerContext, data: object) -> None:
        """Meetings events the evaluation packet does not need; registered so they are not dead-lettered."""

    return {
        topics.REPORTS_INGRESS: {catalog.of(RegionalStatusReportSubmitted).name: on_report},
        topics.AGREEMENT_INGRESS: {
            catalog.of(TerminationNoticeGiven).name: on_notice,
            catalog.of(AnnualEvaluationCompleted).name: on_completed,
        },
        topics.MEETINGS_EVENTS: {
            catalog.of(ContactMeetingRecorded).name: on_meeting,
            catalog.of(ActionItemAssigned).name: on_assigned,
            catalog.of(ActionItemOverdue).name: on_overdue,
            catalog.of(ActionItemClosed).name: on_closed,
            catalog.of(ActionItemDueSoon).name: ignore,
            catalog.of(ContactMeetingsOverdue).name: ignore,
        },
    }
