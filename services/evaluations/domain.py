"""Pure rules: who may report or give notice, when a report is late, and when a notice is long enough."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.events.evaluations import (
    AnnualEvaluationCompleted,
    RegionalStatusReportSubmitted,
    ReportStatus,
    TerminationNoticeGiven,
)
from contracts.reference import Agreement, Organisations, ReferenceDataError, Regions
from contracts.rejections import Reason, Rejected
from services.evaluations import schedule
from services.evaluations.dates import add_months


@dataclass(frozen=True)
class TermState:
    """Where the agreement's term stands: an accepted notice, and whether (and how) it has ended."""

    notice_given_by: str | None = None
    notice_date: date | None = None
    effective_date: date | None = None
    ended_on: date | None = None
    end_kind: str | None = None

    def describe(self, agreement: Agreement, today: date | None = None) -> str:
        """As of `today` when given: a term whose end has passed is told as ended even before the service has
        recorded the end (its timer fires at the next start, or the read is of a database long stopped)."""
        if self.end_kind == "terminated":
            return f"terminated on {self.ended_on} (notice from {self.notice_given_by})"
        if self.end_kind == "expired":
            return f"expired after {self.ended_on}"
        if self.effective_date is not None:
            if today is not None and today >= self.effective_date:
                return f"terminated on {self.effective_date} (notice from {self.notice_given_by})"
            return f"running; terminates on {self.effective_date} (notice from {self.notice_given_by})"
        if today is not None and today > agreement.term.end:
            return f"expired after {agreement.term.end}"
        return f"running until {agreement.term.end}"


def office_organisation(region: str) -> str:
    """A county governor office speaks as the organisation sf-<region> in the reference data."""
    return f"sf-{region}"


def check_source(source: str, organisation_id: str, path: str, organisations: Organisations) -> None:
    """The event's CloudEvents source must be one registered for the organisation it speaks for."""
    owner = organisations.owner_of_source(source)
    if owner is None or owner.id != organisation_id:
        registered = next((o.sources for o in organisations.organisations if o.id == organisation_id), ())
        raise Rejected(
            Reason.UNAUTHORISED_SOURCE,
            f"source: '{source}' is not registered for '{organisation_id}' named in {path} "
            f"(registered: {', '.join(registered) or 'none'})",
        )


def check_report(
    report: RegionalStatusReportSubmitted,
    source: str,
    agreement: Agreement,
    regions: Regions,
    organisations: Organisations,
) -> None:
    """An office reports only for itself, for one of the agreement's reporting dates, on the agreement's areas."""
    office_org = office_organisation(report.region)
    if report.submitted_by != office_org:
        raise Rejected(
            Reason.UNAUTHORISED_SOURCE,
            f"data.submitted_by: '{report.submitted_by}' may not report for region '{report.region}' "
            f"(only '{office_org}' may)",
        )
    check_source(source, office_org, "data.submitted_by", organisations)
    dates = schedule.reporting_dates(agreement, report.reporting_date.year)
    if report.reporting_date not in dates:
        expected = ", ".join(d.isoformat() for d in dates) or "none that year inside the term"
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.reporting_date: {report.reporting_date} is not a reporting date of {agreement.id} "
            f"(in {report.reporting_date.year}: {expected}; term {agreement.term.start} to {agreement.term.end})",
        )
    try:
        office = regions.office(report.region, report.reporting_date)
    except ReferenceDataError as error:
        raise Rejected(Reason.INVALID_REFERENCE, f"data.region: {error}") from error
    expected_name = office.name_on(report.reporting_date)
    if report.office_name is not None and report.office_name != expected_name:
        raise Rejected(
            Reason.INVALID_REFERENCE,
            f"data.office_name: the office was named '{expected_name}' on {report.reporting_date}, "
            f"not '{report.office_name}'",
        )
    for i, status in enumerate(report.focus_areas):
        if status.focus_area not in agreement.focus_area_ids:
            known = ", ".join(sorted(agreement.focus_area_ids))
            raise Rejected(
                Reason.INVALID_REFERENCE,
                f"data.focus_areas.{i}.focus_area: unknown focus area '{status.focus_area}' (known: {known})",
            )
    seen = [s.focus_area for s in report.focus_areas]
    duplicated = sorted({f for f in seen if seen.count(f) > 1})
    if duplicated:
        raise Rejected(Reason.INVALID_DATA, f"data.focus_areas: reported more than once: {', '.join(duplicated)}")
    for i, status in enumerate(report.focus_areas):
        for stage in ("planning", "decided", "implementing"):
            count = getattr(status, stage)
            if count > status.municipalities_reached:
                raise Rejected(
                    Reason.INVALID_DATA,
                    f"data.focus_areas.{i}.{stage}: {count} municipalities cannot be more than the "
                    f"{status.municipalities_reached} reached (municipalities_reached)",
                )


def check_report_owed(report: RegionalStatusReportSubmitted, agreement: Agreement, term: TermState) -> None:
    """Reporting dates from an accepted termination's effective date on are not owed, so not accepted either."""
    if term.effective_date is not None and report.reporting_date >= term.effective_date:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.reporting_date: {report.reporting_date} is not owed: "
            f"{agreement.id} ends by termination on {term.effective_date}",
        )


def report_status(reporting_date: date, first_late: bool | None, today: date) -> ReportStatus:
    """The office's standing for a date: the first accepted submission decides on time or late."""
    if first_late is not None:
        return ReportStatus.LATE if first_late else ReportStatus.ON_TIME
    return ReportStatus.MISSING if today > reporting_date else ReportStatus.NOT_YET_DUE


def check_party(organisation_id: str, path: str, source: str, agreement: Agreement, orgs: Organisations) -> None:
    if organisation_id not in agreement.parties:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"{path}: '{organisation_id}' is not a party to {agreement.id} (parties: {', '.join(agreement.parties)})",
        )
    check_source(source, organisation_id, path, orgs)


def earliest_effective_date(agreement: Agreement, notice_date: date) -> date:
    return add_months(notice_date, agreement.notice_period_months)


def check_notice(
    notice: TerminationNoticeGiven, source: str, agreement: Agreement, organisations: Organisations
) -> None:
    """What a notice must satisfy whatever has happened before: a party gives it, inside the term, with at least
    the agreement's notice period before an effective date that is inside the term too."""
    check_party(notice.given_by, "data.given_by", source, agreement, organisations)
    if not agreement.in_term(notice.notice_date):
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.notice_date: {notice.notice_date} is outside the term "
            f"{agreement.term.start} to {agreement.term.end}",
        )
    earliest = earliest_effective_date(agreement, notice.notice_date)
    if notice.effective_date < earliest:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.effective_date: {notice.effective_date} is less than {agreement.notice_period_months} months "
            f"after data.notice_date {notice.notice_date}; the earliest effective date is {earliest}",
        )
    if notice.effective_date > agreement.term.end:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.effective_date: {notice.effective_date} is after the term ends ({agreement.term.end})",
        )


def check_termination(notice: TerminationNoticeGiven, agreement: Agreement, today: date, term: TermState) -> bool:
    """A valid notice (see check_notice) against the term's state and today; False for a repeat of the notice
    already accepted (no second effect).

    A second, different notice is rejected: the first accepted notice fixes the end, and a party that wants
    another date must settle it outside this system (the agreement has no rule for withdrawing a notice).
    """
    if term.ended_on is not None:
        raise Rejected(Reason.RULE_VIOLATED, f"data.agreement_id: {agreement.id} already {term.describe(agreement)}")
    if term.effective_date is not None:
        same = (notice.given_by, notice.notice_date, notice.effective_date) == (
            term.notice_given_by,
            term.notice_date,
            term.effective_date,
        )
        if same:
            return False
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data: notice was already accepted from '{term.notice_given_by}' given {term.notice_date}, "
            f"effective {term.effective_date}; a second notice is not accepted",
        )
    if notice.notice_date > today:
        raise Rejected(Reason.RULE_VIOLATED, f"data.notice_date: {notice.notice_date} is after today ({today})")
    if notice.effective_date < today:
        raise Rejected(Reason.RULE_VIOLATED, f"data.effective_date: {notice.effective_date} has already passed")
    return True


def check_completion(
    completed: AnnualEvaluationCompleted, source: str, agreement: Agreement, organisations: Organisations
) -> None:
    check_party(completed.completed_by, "data.completed_by", source, agreement, organisations)
    years = schedule.evaluation_years(agreement)
    if completed.year not in years:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.year: {completed.year} has no evaluation in {agreement.id} "
            f"(evaluated years: {', '.join(str(y) for y in years)})",
        )
