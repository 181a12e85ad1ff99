"""Which timers a handler cancels and arms, decided from the agreement alone before anything is written."""

from __future__ import annotations

from datetime import date

from contracts import reference
from services.evaluations import schedule
from services.evaluations.schedule import TimerKind


def test_an_accepted_notice_cancels_every_timer_from_its_effective_date_and_arms_the_termination(
    agreement: reference.Agreement,
) -> None:
    effective = date(2022, 7, 1)
    changes = schedule.after_termination_notice(agreement, effective, "ks", "corr-1")
    end = schedule.end_instant(agreement, effective)
    whole_term = schedule.plan(agreement)
    assert set(changes.cancel) == {t.key for t in whole_term if t.due_at >= end or t.kind is TimerKind.EXPIRY}
    assert changes.cancel
    [ending] = changes.arm
    assert (ending.kind, ending.due_at) == (TimerKind.TERMINATION, end)
    assert ending.payload == {"agreement_id": agreement.id, "correlation_id": "corr-1", "given_by": "ks"}


def test_a_timer_before_the_effective_date_is_kept(agreement: reference.Agreement) -> None:
    changes = schedule.after_termination_notice(agreement, date(2022, 7, 1), "ks", "corr-1")
    kept = [t for t in schedule.plan(agreement) if t.key not in changes.cancel]
    assert kept
    assert all(t.due_at < schedule.end_instant(agreement, date(2022, 7, 1)) for t in kept)


def test_a_completed_evaluation_cancels_only_its_overdue_warning(agreement: reference.Agreement) -> None:
    changes = schedule.after_evaluation_completed(agreement.id, 2021)
    assert changes.cancel == (schedule.evaluation_overdue_key(agreement.id, 2021),)
    assert changes.arm == ()
