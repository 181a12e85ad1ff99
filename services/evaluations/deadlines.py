"""Timer handlers: report reminders and overdue warnings, the annual evaluation, and the end of the term."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime

import asyncpg

from contracts.events.evaluations import (
    AgreementExpired,
    AgreementTerminated,
    AnnualEvaluationDue,
    AnnualEvaluationOverdue,
    RegionalReportDue,
    RegionalReportOverdue,
)
from contracts.reference import Agreement
from runtime import timers
from runtime.logging import get_logger
from runtime.timers import TimerContext, TimerHandler
from services.evaluations import meetings_repository, packet, repository, schedule
from services.evaluations.dates import oslo_day
from services.evaluations.handlers import Deps
from services.evaluations.schedule import TimerKind


async def schedule_term(pool: asyncpg.Pool, deps: Deps, now: datetime) -> int:
    """Put every future timer of every running agreement in the table; safe to repeat at each start.

    Only timers still ahead are scheduled, so a first start in the middle of a term does not replay the past,
    while a timer that fell due during a restart is already a row and fires once on its own.
    """
    scheduled = 0
    for agreement in deps.agreements.values():
        async with pool.acquire() as conn, conn.transaction():
            term = await repository.term_state(conn, agreement.id)
            if term.ended_on is not None:
                continue
            # A completed evaluation's overdue timer was cancelled; scheduling it again would revive it.
            completed = await repository.completed_years(conn, agreement.id)
            done = {schedule.evaluation_overdue_key(agreement.id, year) for year in completed}
            for planned in schedule.plan(agreement, term.effective_date):
                if planned.due_at > now and planned.key not in done:
                    scheduled += await timers.schedule(conn, planned.key, planned.kind, planned.due_at, planned.payload)
    get_logger(component="deadlines").info("term_timers_scheduled", count=scheduled)
    return scheduled


async def _running(tctx: TimerContext, agreement: Agreement) -> bool:
    """A timer acts only while the agreement runs: its end cancels timers, this guards against revived ones."""
    term = await repository.term_state(tctx.conn, agreement.id)
    if term.ended_on is not None or tctx.timer.due_at >= schedule.end_instant(agreement, term.effective_date):
        get_logger(component="deadlines").info("timer_after_agreement_end", timer_key=tctx.timer.key)
        return False
    return True


async def _missing_offices(tctx: TimerContext, deps: Deps, agreement: Agreement, day: date) -> list[tuple[str, str]]:
    reports = await repository.submissions(tctx.conn, agreement.id, day, day)
    reported = {s.region for s in reports}
    return [(r, name or r) for r, name in packet.offices_on(deps.regions, day) if r not in reported]


async def remind_offices_of_report(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    day = date.fromisoformat(tctx.timer.payload["reporting_date"])
    if not await _running(tctx, agreement):
        return
    days_left = max((day - oslo_day(tctx.now)).days, 0)
    for region, name in await _missing_offices(tctx, deps, agreement, day):
        await tctx.emitter.emit(
            RegionalReportDue(
                agreement_id=agreement.id, region=region, reporting_date=day, days_left=days_left, office_name=name
            ),
            agreement_id=agreement.id,
            region=region,
            subject=f"report/{region}/{day.isoformat()}",
            business_key=region,
        )


async def warn_of_overdue_reports(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    day = date.fromisoformat(tctx.timer.payload["reporting_date"])
    if not await _running(tctx, agreement):
        return
    for region, name in await _missing_offices(tctx, deps, agreement, day):
        await tctx.emitter.emit(
            RegionalReportOverdue(agreement_id=agreement.id, region=region, reporting_date=day, office_name=name),
            agreement_id=agreement.id,
            region=region,
            subject=f"report/{region}/{day.isoformat()}",
            business_key=region,
        )


async def open_annual_evaluation(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    year = int(tctx.timer.payload["year"])
    if not await _running(tctx, agreement):
        return
    if await repository.evaluation_completed_on(tctx.conn, agreement.id, year) is not None:
        return
    term = await repository.term_state(tctx.conn, agreement.id)
    today = oslo_day(tctx.now)
    deadline = schedule.evaluation_deadline(agreement, year)
    await repository.mark_evaluation_due(
        tctx.conn, agreement.id, year, schedule.evaluation_due_on(agreement, year), deadline
    )
    submissions = await repository.submissions(tctx.conn, agreement.id, date(year, 1, 1), date(year, 12, 31))
    content = packet.build(
        packet.standings(agreement, deps.regions, year, submissions, today, term.effective_date),
        await meetings_repository.meetings_held(tctx.conn, agreement.id, year),
        await meetings_repository.open_action_items(tctx.conn, agreement.id),
        today,
    )
    await tctx.emitter.emit(
        AnnualEvaluationDue(
            agreement_id=agreement.id,
            year=year,
            consultation_meeting_on=agreement.evaluation.meeting_in(year),
            deadline=deadline,
            packet=content,
        ),
        agreement_id=agreement.id,
        region=None,
        subject=f"evaluation/{year}",
        business_key=str(year),
    )


async def warn_of_overdue_evaluation(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    year = int(tctx.timer.payload["year"])
    if not await _running(tctx, agreement):
        return
    if await repository.evaluation_completed_on(tctx.conn, agreement.id, year) is not None:
        return
    await repository.mark_evaluation_overdue(tctx.conn, agreement.id, year, tctx.now)
    await tctx.emitter.emit(
        AnnualEvaluationOverdue(
            agreement_id=agreement.id, year=year, deadline=schedule.evaluation_deadline(agreement, year)
        ),
        agreement_id=agreement.id,
        region=None,
        subject=f"evaluation/{year}",
        business_key=str(year),
    )


async def expire_agreement(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    term = await repository.term_state(tctx.conn, agreement.id)
    if term.ended_on is not None or term.effective_date is not None:
        return
    await repository.mark_ended(tctx.conn, agreement.id, agreement.term.end, "expired", tctx.now)
    await timers.cancel_prefix(tctx.conn, schedule.key_prefix(agreement.id), tctx.now)
    await tctx.emitter.emit(
        AgreementExpired(agreement_id=agreement.id, expired_on=agreement.term.end),
        agreement_id=agreement.id,
        region=None,
        subject=f"agreement/{agreement.id}",
        business_key="expired",
    )


async def terminate_agreement(deps: Deps, tctx: TimerContext) -> None:
    agreement = deps.agreement(tctx.timer.payload["agreement_id"])
    term = await repository.term_state(tctx.conn, agreement.id)
    if term.ended_on is not None or term.effective_date is None or term.notice_given_by is None:
        return
    await repository.mark_ended(tctx.conn, agreement.id, term.effective_date, "terminated", tctx.now)
    await timers.cancel_prefix(tctx.conn, schedule.key_prefix(agreement.id), tctx.now)
    await tctx.emitter.emit(
        AgreementTerminated(
            agreement_id=agreement.id, effective_date=term.effective_date, given_by=term.notice_given_by
        ),
        agreement_id=agreement.id,
        region=None,
        subject=f"agreement/{agreement.id}",
        business_key="terminated",
    )


def timer_routes(deps: Deps) -> Mapping[str, TimerHandler]:
    """Timer kind -> handler, bound to their dependencies."""
    handlers: dict[TimerKind, Callable[[Deps, TimerContext], Awaitable[None]]] = {
        TimerKind.REPORT_DUE: remind_offices_of_report,
        TimerKind.REPORT_OVERDUE: warn_of_overdue_reports,
        TimerKind.EVALUATION_DUE: open_annual_evaluation,
        TimerKind.EVALUATION_OVERDUE: warn_of_overdue_evaluation,
        TimerKind.EXPIRY: expire_agreement,
        TimerKind.TERMINATION: terminate_agreement,
    }

    def bind(handler: Callable[[Deps, TimerContext], Awaitable[None]]) -> TimerHandler:
        async def run(tctx: TimerContext) -> None:
            await handler(deps, tctx)

        return run

    return {kind.value: bind(h) for kind, h in handlers.items()}
