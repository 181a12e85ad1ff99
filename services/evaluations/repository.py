"""SQL of reports, evaluations and the term; `meetings_repository` holds the meetings facts."""

from __future__ import annotations

from datetime import date, datetime

from contracts.events.evaluations import AnnualEvaluationCompleted, RegionalStatusReportSubmitted
from runtime.db import Connection
from services.evaluations.domain import TermState
from services.evaluations.packet import Submission


async def report_subject(conn: Connection, agreement_id: str, report_id: str) -> tuple[str, date] | None:
    """(region, reporting date) of an already accepted submission with this id, if any."""
    row = await conn.fetchrow(
        "SELECT region, reporting_date FROM reports WHERE agreement_id = $1 AND report_id = $2", agreement_id, report_id
    )
    return (row["region"], row["reporting_date"]) if row is not None else None


async def completed_years(conn: Connection, agreement_id: str) -> set[int]:
    rows = await conn.fetch(
        "SELECT year FROM evaluations WHERE agreement_id = $1 AND completed_on IS NOT NULL", agreement_id
    )
    return {r["year"] for r in rows}


async def latest_report_id(conn: Connection, agreement_id: str, region: str, reporting_date: date) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT report_id FROM reports WHERE agreement_id = $1 AND region = $2 AND reporting_date = $3"
        " ORDER BY received_at DESC, report_id DESC LIMIT 1",
        agreement_id,
        region,
        reporting_date,
    )
    return found


async def add_report(
    conn: Connection,
    report: RegionalStatusReportSubmitted,
    *,
    received_at: datetime,
    late: bool,
    supersedes: str | None,
    event_id: str,
) -> None:
    await conn.execute(
        "INSERT INTO reports (agreement_id, report_id, region, reporting_date, submitted_by, received_at, late,"
        " supersedes, focus_areas, summary, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        report.agreement_id,
        report.report_id,
        report.region,
        report.reporting_date,
        report.submitted_by,
        received_at,
        late,
        supersedes,
        [f.model_dump(mode="json") for f in report.focus_areas],
        report.summary,
        event_id,
    )


async def submissions(
    conn: Connection, agreement_id: str, first: date, last: date, received_before: datetime | None = None
) -> list[Submission]:
    """Accepted submissions for reporting dates in [first, last] (received before an instant, if given), in order."""
    rows = await conn.fetch(
        "SELECT report_id, region, reporting_date, late, focus_areas FROM reports"
        " WHERE agreement_id = $1 AND reporting_date BETWEEN $2 AND $3"
        " AND ($4::timestamptz IS NULL OR received_at < $4) ORDER BY received_at, report_id",
        agreement_id,
        first,
        last,
        received_before,
    )
    return [
        Submission(r["report_id"], r["region"], r["reporting_date"], r["late"], tuple(r["focus_areas"])) for r in rows
    ]


async def term_state(conn: Connection, agreement_id: str) -> TermState:
    row = await conn.fetchrow(
        "SELECT notice_given_by, notice_date, effective_date, ended_on, end_kind FROM agreement_terms"
        " WHERE agreement_id = $1",
        agreement_id,
    )
    if row is None:
        return TermState()
    return TermState(
        row["notice_given_by"], row["notice_date"], row["effective_date"], row["ended_on"], row["end_kind"]
    )


async def accept_notice(
    conn: Connection,
    agreement_id: str,
    given_by: str,
    notice_date: date,
    effective_date: date,
    event_id: str,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO agreement_terms (agreement_id, notice_given_by, notice_date, effective_date, notice_event_id,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (agreement_id) DO UPDATE SET notice_given_by = EXCLUDED.notice_given_by,"
        "   notice_date = EXCLUDED.notice_date, effective_date = EXCLUDED.effective_date,"
        "   notice_event_id = EXCLUDED.notice_event_id, updated_at = EXCLUDED.updated_at",
        agreement_id,
        given_by,
        notice_date,
        effective_date,
        event_id,
        now,
    )


async def mark_ended(conn: Connection, agreement_id: str, ended_on: date, kind: str, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO agreement_terms (agreement_id, ended_on, end_kind, updated_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (agreement_id) DO UPDATE SET ended_on = EXCLUDED.ended_on, end_kind = EXCLUDED.end_kind,"
        "   updated_at = EXCLUDED.updated_at",
        agreement_id,
        ended_on,
        kind,
        now,
    )


async def evaluation_completed_on(conn: Connection, agreement_id: str, year: int) -> date | None:
    found: date | None = await conn.fetchval(
        "SELECT completed_on FROM evaluations WHERE agreement_id = $1 AND year = $2", agreement_id, year
    )
    return found


async def evaluation_completion(conn: Connection, agreement_id: str, year: int) -> tuple[date, str] | None:
    """(completed_on, completed_by) of the year's evaluation, if completed."""
    row = await conn.fetchrow(
        "SELECT completed_on, completed_by FROM evaluations"
        " WHERE agreement_id = $1 AND year = $2 AND completed_on IS NOT NULL",
        agreement_id,
        year,
    )
    return (row["completed_on"], row["completed_by"]) if row is not None else None


async def mark_evaluation_due(conn: Connection, agreement_id: str, year: int, due_on: date, deadline: date) -> None:
    await conn.execute(
        "INSERT INTO evaluations (agreement_id, year, due_on, deadline) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (agreement_id, year) DO UPDATE SET due_on = EXCLUDED.due_on, deadline = EXCLUDED.deadline",
        agreement_id,
        year,
        due_on,
        deadline,
    )


async def mark_evaluation_overdue(conn: Connection, agreement_id: str, year: int, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO evaluations (agreement_id, year, overdue_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (agreement_id, year) DO UPDATE SET overdue_at = EXCLUDED.overdue_at",
        agreement_id,
        year,
        now,
    )


async def complete_evaluation(conn: Connection, completed: AnnualEvaluationCompleted) -> bool:
    """Record the completion; the first one stands, so returns False if the year was already completed."""
    row = await conn.fetchrow(
        "INSERT INTO evaluations (agreement_id, year, completed_on, completed_by, summary) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (agreement_id, year) DO UPDATE SET completed_on = EXCLUDED.completed_on,"
        "   completed_by = EXCLUDED.completed_by, summary = EXCLUDED.summary"
        " WHERE evaluations.completed_on IS NULL RETURNING year",
        completed.agreement_id,
        completed.year,
        completed.completed_on,
        completed.completed_by,
        completed.summary,
    )
    return row is not None
