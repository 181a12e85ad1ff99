"""The status of one year as people read it: each office per reporting date, the evaluation and the term."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.reference import Agreement, Regions
from services.evaluations import packet, schedule
from services.evaluations.domain import TermState
from services.evaluations.packet import OfficeStanding, Submission


@dataclass(frozen=True)
class YearStatus:
    agreement_id: str
    year: int
    as_of: date
    term: str
    evaluation: str
    standings: tuple[OfficeStanding, ...]
    totals: dict[date, dict[str, dict[str, int]]]

    @property
    def reporting_dates(self) -> list[date]:
        return sorted({s.reporting_date for s in self.standings})

    def to_json(self) -> dict[str, Any]:
        offices: dict[str, dict[str, Any]] = {}
        for s in self.standings:
            office = offices.setdefault(s.region, {"region": s.region, "reports": {}})
            office["names"] = {**office.get("names", {}), s.reporting_date.isoformat(): s.office_name}
            office["reports"][s.reporting_date.isoformat()] = {"status": s.status.value, "report_id": s.report_id}
        return {
            "agreement_id": self.agreement_id,
            "year": self.year,
            "as_of": self.as_of.isoformat(),
            "term": self.term,
            "evaluation": self.evaluation,
            "offices": list(offices.values()),
            "national_totals": {d.isoformat(): t for d, t in self.totals.items()},
        }


def evaluation_state(
    agreement: Agreement, year: int, completion: tuple[date, str] | None, term: TermState, today: date
) -> str:
    if completion is not None:
        completed_on, by = completion
        if year in schedule.evaluation_years(agreement):
            deadline = schedule.evaluation_deadline(agreement, year)
            if completed_on > deadline:
                return f"completed late on {completed_on} by {by} (deadline {deadline})"
        return f"completed on {completed_on} by {by}"
    if year not in schedule.evaluation_years(agreement):
        return "none this year (the autumn consultation meeting is outside the term)"
    due_on, deadline = schedule.evaluation_due_on(agreement, year), schedule.evaluation_deadline(agreement, year)
    if term.effective_date is not None and due_on >= term.effective_date:
        return f"none this year (the agreement ends by termination on {term.effective_date})"
    if today > deadline:
        return f"overdue (deadline {deadline})"
    if today >= due_on:
        return f"due (deadline {deadline})"
    return f"not yet due (falls due {due_on})"


def year_status(
    agreement: Agreement,
    regions: Regions,
    year: int,
    submissions: Sequence[Submission],
    completion: tuple[date, str] | None,
    term: TermState,
    today: date,
) -> YearStatus:
    standing = packet.standings(agreement, regions, year, submissions, today, term.effective_date)
    dates = sorted({s.reporting_date for s in standing})
    return YearStatus(
        agreement_id=agreement.id,
        year=year,
        as_of=today,
        term=term.describe(agreement, today),
        evaluation=evaluation_state(agreement, year, completion, term, today),
        standings=tuple(standing),
        totals={d: packet.national_totals(d, submissions) for d in dates},
    )
