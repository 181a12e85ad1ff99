"""Valid events for the evaluations unit tests, to vary one field at a time."""

from __future__ import annotations

import uuid
from datetime import date

from contracts import reference
from contracts.events.evaluations import FocusAreaStatus, RegionalStatusReportSubmitted, TerminationNoticeGiven


def report(
    region: str = "vestland",
    reporting_date: date = date(2022, 5, 15),
    *,
    submitted_by: str | None = None,
    office_name: str | None = None,
    focus_area: str = "mat-og-maltider",
) -> RegionalStatusReportSubmitted:
    return RegionalStatusReportSubmitted(
        report_id=f"r-{uuid.uuid4().hex[:8]}",
        agreement_id=reference.DEFAULT_AGREEMENT_ID,
        region=region,
        reporting_date=reporting_date,
        submitted_by=submitted_by or f"sf-{region}",
        focus_areas=(
            FocusAreaStatus(focus_area=focus_area, municipalities_reached=40, planning=30, decided=20, implementing=10),
        ),
        summary="God framdrift i kommunene.",
        office_name=office_name,
    )


def notice(notice_date: date, effective_date: date, given_by: str = "ks") -> TerminationNoticeGiven:
    return TerminationNoticeGiven(
        agreement_id=reference.DEFAULT_AGREEMENT_ID,
        given_by=given_by,
        notice_date=notice_date,
        effective_date=effective_date,
        reason="Avtalen erstattes av en ny avtale.",
    )
