"""Which timers an agreement needs over its whole term, derived only from its definition."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from contracts.reference import Agreement
from services.evaluations.dates import day_after, start_of_day


class TimerKind(StrEnum):
    REPORT_DUE = "report_due"
    REPORT_OVERDUE = "report_overdue"
    EVALUATION_DUE = "evaluation_due"
    EVALUATION_OVERDUE = "evaluation_overdue"
    EXPIRY = "agreement_expiry"
    TERMINATION = "agreement_termination"


@dataclass(frozen=True)
class PlannedTimer:
    key: str
    kind: TimerKind
    due_at: datetime
    payload: dict[str, str] = field(default_factory=dict)


def key_prefix(agreement_id: str) -> str:
    """Every timer of one agreement shares this prefix, so the agreement's end cancels them all at once."""
    return f"evaluations/{agreement_id}/"


def evaluation_overdue_key(agreement_id: str, year: int) -> str:
    return f"{key_prefix(agreement_id)}evaluation-overdue/{year}"


def end_instant(agreement: Agreement, effective_date: date | None) -> datetime:
    """The instant the agreement stops: the effective date of an accepted termination, else the day after the term."""
    return start_of_day(effective_date or day_after(agreement.term.end))


def reporting_dates(agreement: Agreement, year: int | None = None) -> list[date]:
    """The agreement's reporting dates that fall inside the term (in one year, if given)."""
    years = [year] if year is not None else list(agreement.years())
    return [d for y in years for d in agreement.reporting.dates_in(y) if agreement.in_term(d)]


def evaluation_years(agreement: Agreement) -> list[int]:
    """Years whose autumn consultation meeting falls inside the term: a year the term ends early is not evaluated."""
    return [y for y in agreement.years() if agreement.in_term(agreement.evaluation.meeting_in(y))]


def evaluation_due_on(agreement: Agreement, year: int) -> date:
    return agreement.evaluation.meeting_in(year) - timedelta(days=agreement.evaluation.due_days_before_meeting)


def evaluation_deadline(agreement: Agreement, year: int) -> date:
    rules = agreement.evaluation
    return rules.meeting_in(year) + timedelta(days=rules.completion_deadline_days_after_meeting)


def report_reminder_on(agreement: Agreement, reporting_date: date) -> date:
    """The reminder day, never before the term starts."""
    return max(reporting_date - timedelta(days=agreement.reporting.reminder_days_before), agreement.term.start)


def _correlation(agreement_id: str, step: str) -> str:
    return f"{agreement_id}/{step}"


def plan(agreement: Agreement, effective_date: date | None = None) -> list[PlannedTimer]:
    """Every due, overdue and expiry timer of the term, in time order; none at or after the agreement's end."""
    prefix, agreement_id = key_prefix(agreement.id), agreement.id
    timers: list[PlannedTimer] = []
    for day in reporting_dates(agreement):
        step = {"agreement_id": agreement_id, "reporting_date": day.isoformat()}
        correlation = _correlation(agreement_id, f"report/{day.isoformat()}")
        timers.append(
            PlannedTimer(
                f"{prefix}report-due/{day.isoformat()}",
                TimerKind.REPORT_DUE,
                start_of_day(report_reminder_on(agreement, day)),
                {**step, "correlation_id": correlation},
            )
        )
        timers.append(
            PlannedTimer(
                f"{prefix}report-overdue/{day.isoformat()}",
                TimerKind.REPORT_OVERDUE,
                start_of_day(day_after(day)),
                {**step, "correlation_id": correlation},
            )
        )
    for year in evaluation_years(agreement):
        step = {"agreement_id": agreement_id, "year": str(year)}
        correlation = _correlation(agreement_id, f"evaluation/{year}")
        timers.append(
            PlannedTimer(
                f"{prefix}evaluation-due/{year}",
                TimerKind.EVALUATION_DUE,
                start_of_day(evaluation_due_on(agreement, year)),
                {**step, "correlation_id": correlation},
            )
        )
        timers.append(
            PlannedTimer(
                evaluation_overdue_key(agreement_id, year),
                TimerKind.EVALUATION_OVERDUE,
                start_of_day(day_after(evaluation_deadline(agreement, year))),
                {**step, "correlation_id": correlation},
            )
        )
    end = end_instant(agreement, effective_date)
    timers = [t for t in timers if t.due_at < end]
    if effective_date is None:
        timers.append(
            PlannedTimer(
                f"{prefix}expiry",
                TimerKind.EXPIRY,
                end,
                {"agreement_id": agreement_id, "correlation_id": _correlation(agreement_id, "term")},
            )
        )
    return sorted(timers, key=lambda t: (t.due_at, t.key))


def termination_timer(agreement_id: str, effective_date: date, correlation_id: str) -> PlannedTimer:
    return PlannedTimer(
        f"{key_prefix(agreement_id)}termination",
        TimerKind.TERMINATION,
        start_of_day(effective_date),
        {"agreement_id": agreement_id, "correlation_id": correlation_id},
    )


@dataclass(frozen=True)
class TimerChanges:
    """Timers a handler cancels (by key) and arms, decided from the agreement alone; see applier.py."""

    cancel: tuple[str, ...] = ()
    arm: tuple[PlannedTimer, ...] = ()


def after_termination_notice(
    agreement: Agreement, effective_date: date, given_by: str, correlation_id: str
) -> TimerChanges:
    """An accepted notice cancels the timers at or after its effective date, which would announce duties that no
    longer exist, and arms the termination itself."""
    remaining = {t.key for t in plan(agreement, effective_date)}
    ending = termination_timer(agreement.id, effective_date, correlation_id)
    return TimerChanges(
        cancel=tuple(t.key for t in plan(agreement) if t.key not in remaining),
        arm=(replace(ending, payload={**ending.payload, "given_by": given_by}),),
    )


def after_evaluation_completed(agreement_id: str, year: int) -> TimerChanges:
    """A completed evaluation is no longer overdue."""
    return TimerChanges(cancel=(evaluation_overdue_key(agreement_id, year),))
