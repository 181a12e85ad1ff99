"""Who may report, for which date, under which name, and when a report is on time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts import reference
from contracts.events.evaluations import ReportStatus
from contracts.oslo_calendar import OSLO
from contracts.reference import CountyGovernorOffice, NamePeriod, Regions
from contracts.rejections import Reason, Rejected
from services.evaluations import domain, packet
from services.evaluations.dates import is_late
from services.evaluations.packet import Submission
from tests.unit.evaluations.builders import report

SOURCE = "/statsforvalteren/vestland/rapportering"
REGIONS = reference.regions()
ORGS = reference.organisations()


def test_report_received_late_in_the_evening_of_the_deadline_day_is_on_time() -> None:
    last_minute = datetime(2023, 5, 15, 23, 59, tzinfo=OSLO)
    assert is_late(date(2023, 5, 15), last_minute) is False


def test_report_received_at_oslo_midnight_after_the_deadline_is_late_although_utc_is_still_on_the_date() -> None:
    midnight_oslo = datetime(2023, 5, 15, 22, 0, tzinfo=UTC)
    assert is_late(date(2023, 5, 15), midnight_oslo) is True


def test_office_standing_is_decided_by_its_first_submission_and_otherwise_by_the_date() -> None:
    assert domain.report_status(date(2023, 5, 15), False, date(2023, 6, 1)) is ReportStatus.ON_TIME
    assert domain.report_status(date(2023, 5, 15), True, date(2023, 6, 1)) is ReportStatus.LATE
    assert domain.report_status(date(2023, 5, 15), None, date(2023, 5, 15)) is ReportStatus.NOT_YET_DUE
    assert domain.report_status(date(2023, 5, 15), None, date(2023, 5, 16)) is ReportStatus.MISSING


def test_report_from_the_offices_own_system_is_accepted(agreement: reference.Agreement) -> None:
    domain.check_report(report(), SOURCE, agreement, REGIONS, ORGS)


def test_report_for_another_office_from_this_offices_system_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected) as rejected:
        domain.check_report(report(region="rogaland"), SOURCE, agreement, REGIONS, ORGS)
    assert rejected.value.reason is Reason.UNAUTHORISED_SOURCE
    assert "source: '/statsforvalteren/vestland/rapportering' is not registered for 'sf-rogaland'" in str(
        rejected.value
    )


def test_report_submitted_by_another_organisation_than_the_office_is_rejected(
    agreement: reference.Agreement,
) -> None:
    with pytest.raises(Rejected, match=r"data\.submitted_by: 'ks-vestland' may not report for region 'vestland'"):
        domain.check_report(report(submitted_by="ks-vestland"), SOURCE, agreement, REGIONS, ORGS)


def test_report_for_a_day_that_is_not_a_reporting_date_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected, match=r"data.reporting_date: 2022-06-01 is not a reporting date .*2022-05-15"):
        domain.check_report(report(reporting_date=date(2022, 6, 1)), SOURCE, agreement, REGIONS, ORGS)


def test_report_for_a_reporting_date_after_the_term_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected, match="none that year inside the term"):
        domain.check_report(report(reporting_date=date(2024, 5, 15)), SOURCE, agreement, REGIONS, ORGS)


def test_report_on_a_focus_area_outside_the_agreement_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected, match=r"data\.focus_areas\.0\.focus_area: unknown focus area 'boligbygging'"):
        domain.check_report(report(focus_area="boligbygging"), SOURCE, agreement, REGIONS, ORGS)


def test_a_2020_report_must_use_the_name_fylkesmannen(agreement: reference.Agreement) -> None:
    old = report(reporting_date=date(2020, 11, 1), office_name="Fylkesmannen i Vestland")
    domain.check_report(old, SOURCE, agreement, REGIONS, ORGS)
    renamed_too_early = report(reporting_date=date(2020, 11, 1), office_name="Statsforvalteren i Vestland")
    with pytest.raises(Rejected) as rejected:
        domain.check_report(renamed_too_early, SOURCE, agreement, REGIONS, ORGS)
    assert rejected.value.reason is Reason.INVALID_REFERENCE
    assert rejected.value.message == (
        "data.office_name: the office was named 'Fylkesmannen i Vestland' on 2020-11-01, "
        "not 'Statsforvalteren i Vestland'"
    )


def test_a_2021_report_must_use_the_name_statsforvalteren(agreement: reference.Agreement) -> None:
    stale = report(reporting_date=date(2021, 5, 15), office_name="Fylkesmannen i Vestland")
    with pytest.raises(Rejected, match="named 'Statsforvalteren i Vestland' on 2021-05-15"):
        domain.check_report(stale, SOURCE, agreement, REGIONS, ORGS)


def test_reminders_address_each_office_by_the_name_valid_on_the_reporting_date() -> None:
    in_2020 = dict(packet.offices_on(REGIONS, date(2020, 11, 1)))
    in_2021 = dict(packet.offices_on(REGIONS, date(2021, 5, 15)))
    assert in_2020["vestland"] == "Fylkesmannen i Vestland"
    assert in_2021["vestland"] == "Statsforvalteren i Vestland"
    assert len(in_2020) == len(in_2021) == 10


def test_report_from_an_office_that_did_not_exist_that_year_is_rejected(agreement: reference.Agreement) -> None:
    founded_2021 = CountyGovernorOffice(
        id="vestland",
        valid_from=date(2021, 1, 1),
        names=(NamePeriod(valid_from=date(2021, 1, 1), name="Statsforvalteren i Vestland"),),
        counties=(),
    )
    regions = Regions(county_governor_offices=(founded_2021,), counties=())
    with pytest.raises(Rejected) as rejected:
        domain.check_report(report(reporting_date=date(2020, 11, 1)), SOURCE, agreement, regions, ORGS)
    assert rejected.value.reason is Reason.INVALID_REFERENCE
    assert "data.region: county governor office 'vestland' is valid 2021-01-01 to today, not on 2020-11-01" in (
        rejected.value.message
    )
    assert [o for o, _ in packet.offices_on(regions, date(2020, 11, 1))] == []


def test_resubmission_after_the_deadline_keeps_the_office_on_time_and_replaces_the_counts(
    agreement: reference.Agreement,
) -> None:
    day = date(2023, 5, 15)
    area = {"focus_area": "helsehjelp", "planning": 5, "decided": 4, "implementing": 3}
    first = Submission("r-1", "vestland", day, False, ({**area, "municipalities_reached": 10},))
    second = Submission("r-2", "vestland", day, True, ({**area, "municipalities_reached": 12},))
    late = Submission("r-3", "rogaland", day, True, ({**area, "municipalities_reached": 7},))
    standing = packet.standings(agreement, REGIONS, 2023, [first, second, late], date(2023, 6, 1))
    may = {s.region: s for s in standing if s.reporting_date == day}
    november = {s.status for s in standing if s.reporting_date == date(2023, 11, 1)}
    assert (may["vestland"].status, may["vestland"].report_id) == (ReportStatus.ON_TIME, "r-2")
    assert may["rogaland"].status is ReportStatus.LATE
    assert may["agder"].status is ReportStatus.MISSING
    assert november == {ReportStatus.NOT_YET_DUE}
    totals = packet.national_totals(day, [first, second, late])
    assert totals == {"helsehjelp": {"municipalities_reached": 19, "planning": 10, "decided": 8, "implementing": 6}}


def test_report_for_a_date_from_an_accepted_terminations_effective_date_is_rejected(
    agreement: reference.Agreement,
) -> None:
    terminating = domain.TermState(
        notice_given_by="hod", notice_date=date(2023, 1, 10), effective_date=date(2023, 5, 15)
    )
    domain.check_report_owed(report(reporting_date=date(2022, 11, 1)), agreement, terminating)
    with pytest.raises(Rejected, match="2023-05-15 is not owed: leve-hele-livet-2019-2023 ends by termination"):
        domain.check_report_owed(report(reporting_date=date(2023, 5, 15)), agreement, terminating)
