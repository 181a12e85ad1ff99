"""The notice rules: calendar months, the term's end, who may give notice, and what a second notice does."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import reference
from contracts.events.evaluations import TerminationNoticeGiven
from contracts.rejections import Reason, Rejected
from services.evaluations import domain
from services.evaluations.dates import add_months
from services.evaluations.domain import TermState
from tests.unit.evaluations.builders import notice

KS = "/ks/sekretariat"
HOD = "/hod/saksbehandling"
ORGS = reference.organisations()


def check(
    agreement: reference.Agreement, given: TerminationNoticeGiven, *, source: str = KS, term: TermState | None = None
) -> bool:
    """Check a notice as if it arrived on 30 June 2023: first what any notice must satisfy, then against the term."""
    return received_on(date(2023, 6, 30), agreement, given, source=source, term=term)


def received_on(
    today: date,
    agreement: reference.Agreement,
    given: TerminationNoticeGiven,
    *,
    source: str = KS,
    term: TermState | None = None,
) -> bool:
    domain.check_notice(given, source, agreement, ORGS)
    return domain.check_termination(given, agreement, today, term or TermState())


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2022, 11, 30), 3, date(2023, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2023, 8, 31), 3, date(2023, 11, 30)),
        (date(2023, 3, 15), 3, date(2023, 6, 15)),
        (date(2023, 10, 31), 3, date(2024, 1, 31)),
    ],
)
def test_notice_period_counts_calendar_months_and_ends_on_the_last_day_of_a_short_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_notice_exactly_three_months_before_the_effective_date_is_accepted(agreement: reference.Agreement) -> None:
    assert check(agreement, notice(date(2023, 6, 30), date(2023, 9, 30))) is True


def test_notice_one_day_short_of_three_months_is_rejected_with_the_earliest_date(
    agreement: reference.Agreement,
) -> None:
    with pytest.raises(Rejected) as rejected:
        check(agreement, notice(date(2023, 6, 30), date(2023, 9, 29)))
    assert rejected.value.reason is Reason.RULE_VIOLATED
    assert rejected.value.message.startswith("data.effective_date: 2023-09-29 is less than 3 months")
    assert "the earliest effective date is 2023-09-30" in rejected.value.message


def test_notice_given_30_november_may_take_effect_28_february(agreement: reference.Agreement) -> None:
    given = notice(date(2022, 11, 30), date(2023, 2, 28))
    assert received_on(date(2022, 11, 30), agreement, given) is True
    short = notice(date(2022, 11, 30), date(2023, 2, 27))
    with pytest.raises(Rejected, match="earliest effective date is 2023-02-28"):
        received_on(date(2022, 11, 30), agreement, short)


def test_effective_date_after_the_term_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected, match=r"data.effective_date: 2024-01-01 is after the term ends \(2023-12-31\)"):
        check(agreement, notice(date(2023, 6, 30), date(2024, 1, 1)))


def test_effective_date_on_the_last_day_of_the_term_is_accepted(agreement: reference.Agreement) -> None:
    assert check(agreement, notice(date(2023, 6, 30), date(2023, 12, 31))) is True


def test_notice_dated_in_the_future_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected, match=r"data\.notice_date: 2023-07-01 is after today"):
        check(agreement, notice(date(2023, 7, 1), date(2023, 10, 1)))


def test_notice_from_an_organisation_that_is_not_a_party_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected) as rejected:
        check(agreement, notice(date(2023, 6, 1), date(2023, 9, 1), given_by="hdir"), source="/hdir/leve-hele-livet")
    assert rejected.value.reason is Reason.RULE_VIOLATED
    assert "data.given_by: 'hdir' is not a party" in rejected.value.message
    assert "parties: hod, ks" in rejected.value.message


def test_notice_in_a_partys_name_from_another_partys_system_is_rejected(agreement: reference.Agreement) -> None:
    with pytest.raises(Rejected) as rejected:
        check(agreement, notice(date(2023, 6, 1), date(2023, 9, 1), given_by="ks"), source=HOD)
    assert rejected.value.reason is Reason.UNAUTHORISED_SOURCE
    assert "'/hod/saksbehandling' is not registered for 'ks'" in rejected.value.message


def test_second_notice_is_rejected_and_the_first_stands(agreement: reference.Agreement) -> None:
    accepted = TermState(notice_given_by="ks", notice_date=date(2023, 5, 2), effective_date=date(2023, 9, 1))
    with pytest.raises(Rejected, match="notice was already accepted from 'ks' given 2023-05-02, effective 2023-09-01"):
        check(agreement, notice(date(2023, 6, 1), date(2023, 9, 1), given_by="hod"), source=HOD, term=accepted)


def test_the_accepted_notice_sent_again_has_no_second_effect(agreement: reference.Agreement) -> None:
    accepted = TermState(notice_given_by="ks", notice_date=date(2023, 5, 2), effective_date=date(2023, 9, 1))
    assert check(agreement, notice(date(2023, 5, 2), date(2023, 9, 1)), term=accepted) is False


def test_notice_after_the_agreement_ended_is_rejected(agreement: reference.Agreement) -> None:
    ended = TermState(ended_on=date(2023, 6, 1), end_kind="terminated", notice_given_by="hod")
    with pytest.raises(Rejected, match="already terminated on 2023-06-01"):
        check(agreement, notice(date(2023, 6, 1), date(2023, 9, 1)), term=ended)
