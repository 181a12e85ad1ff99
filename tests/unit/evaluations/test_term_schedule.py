"""The timers an agreement needs, derived from its definition alone: dates, Oslo midnights and the term's end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from contracts import reference
from contracts.reference import Term
from services.evaluations import schedule
from services.evaluations.schedule import PlannedTimer, TimerKind


def keys(timers: list[PlannedTimer], kind: TimerKind) -> list[str]:
    return [t.key.rsplit("/", 1)[-1] for t in timers if t.kind is kind]


def test_shipped_agreement_has_two_reporting_dates_and_one_evaluation_each_year_and_expires_after_2023(
    agreement: reference.Agreement,
) -> None:
    timers = schedule.plan(agreement)
    assert len(keys(timers, TimerKind.REPORT_DUE)) == len(keys(timers, TimerKind.REPORT_OVERDUE)) == 10
    assert keys(timers, TimerKind.EVALUATION_DUE) == ["2019", "2020", "2021", "2022", "2023"]
    assert [t.due_at for t in timers if t.kind is TimerKind.EXPIRY] == [datetime(2023, 12, 31, 23, 0, tzinfo=UTC)]
    assert timers == sorted(timers, key=lambda t: t.due_at)


def test_report_timers_fire_at_oslo_midnight_in_summer_and_winter_time(agreement: reference.Agreement) -> None:
    by_key = {t.key.removeprefix(schedule.key_prefix(agreement.id)): t.due_at for t in schedule.plan(agreement)}
    # Reminder 14 days before 15 May (summer time, UTC+2); overdue from the first minute of 2 November (UTC+1).
    assert by_key["report-due/2023-05-15"] == datetime(2023, 4, 30, 22, 0, tzinfo=UTC)
    assert by_key["report-overdue/2023-05-15"] == datetime(2023, 5, 15, 22, 0, tzinfo=UTC)
    assert by_key["report-overdue/2023-11-01"] == datetime(2023, 11, 1, 23, 0, tzinfo=UTC)


def test_evaluation_falls_due_six_weeks_before_the_autumn_meeting_and_is_overdue_thirty_days_after(
    agreement: reference.Agreement,
) -> None:
    assert schedule.evaluation_due_on(agreement, 2022) == date(2022, 10, 4)
    assert schedule.evaluation_deadline(agreement, 2022) == date(2022, 12, 15)
    overdue = [t for t in schedule.plan(agreement) if t.key.endswith("evaluation-overdue/2022")]
    assert [t.due_at for t in overdue] == [datetime(2022, 12, 15, 23, 0, tzinfo=UTC)]


def test_year_in_which_the_term_ends_early_keeps_only_its_dates_inside_the_term(
    agreement: reference.Agreement,
) -> None:
    short = agreement.model_copy(update={"term": Term(start=date(2019, 1, 1), end=date(2023, 6, 30))})
    timers = schedule.plan(short)
    assert keys(timers, TimerKind.REPORT_OVERDUE)[-2:] == ["2022-11-01", "2023-05-15"]
    assert keys(timers, TimerKind.EVALUATION_DUE)[-1] == "2022"
    assert timers[-1].kind is TimerKind.EXPIRY
    assert timers[-1].due_at == datetime(2023, 6, 30, 22, 0, tzinfo=UTC)


def test_a_term_ending_on_a_reporting_date_reminds_of_that_report_but_warns_nobody_after_the_end(
    agreement: reference.Agreement,
) -> None:
    short = agreement.model_copy(update={"term": Term(start=date(2019, 1, 1), end=date(2023, 5, 15))})
    timers = schedule.plan(short)
    assert keys(timers, TimerKind.REPORT_DUE)[-1] == "2023-05-15"
    # The overdue warning would fire the instant the agreement expires, when nobody owes anything any more.
    assert keys(timers, TimerKind.REPORT_OVERDUE)[-1] == "2022-11-01"
    assert timers[-1].kind is TimerKind.EXPIRY


def test_accepted_termination_drops_every_timer_from_its_effective_date_and_the_expiry(
    agreement: reference.Agreement,
) -> None:
    timers = schedule.plan(agreement, effective_date=date(2023, 5, 17))
    assert keys(timers, TimerKind.REPORT_OVERDUE)[-1] == "2023-05-15"
    assert keys(timers, TimerKind.REPORT_DUE)[-1] == "2023-05-15"
    assert keys(timers, TimerKind.EVALUATION_DUE)[-1] == "2022"
    assert keys(timers, TimerKind.EXPIRY) == []
    assert max(t.due_at for t in timers) < datetime(2023, 5, 16, 22, 0, tzinfo=UTC)


def test_second_agreement_with_other_dates_is_scheduled_from_its_definition(tmp_path: Path) -> None:
    (tmp_path / "neste.json").write_text(
        """{
          "id": "neste-avtale-2024-2025", "title": "Neste avtale", "reform": "Leve hele livet",
          "signed_on": "2023-12-01", "parties": ["hod", "ks"], "state_actors": ["hdir"],
          "term": {"start": "2024-03-01", "end": "2025-08-31"}, "notice_period_months": 6,
          "focus_areas": [{"id": "helsehjelp", "name": "Helsehjelp"}],
          "reporting": {"dates": ["03-01", "09-01"], "reminder_days_before": 7},
          "evaluation": {"autumn_consultation_meeting": "10-20", "due_days_before_meeting": 14,
                         "completion_deadline_days_after_meeting": 10},
          "contact_meetings": {"national_interval_days": 90, "regional_interval_days": 90},
          "action_items": {"due_soon_days_before": 3}
        }""",
        encoding="utf-8",
    )
    other = reference.agreements(tmp_path)["neste-avtale-2024-2025"]
    timers = schedule.plan(other)
    assert keys(timers, TimerKind.REPORT_DUE) == ["2024-03-01", "2024-09-01", "2025-03-01"]
    # The reminder for the first date would fall before the term starts, so it comes on the first day.
    assert timers[0].due_at == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)
    assert keys(timers, TimerKind.EVALUATION_DUE) == ["2024"]
    assert timers[-1].key == "evaluations/neste-avtale-2024-2025/expiry"
    assert timers[-1].due_at == datetime(2025, 8, 31, 22, 0, tzinfo=UTC)
