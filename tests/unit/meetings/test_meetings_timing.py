"""When reminders fall due: midnight in Oslo, summer or winter, and the contact-meeting intervals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from contracts import reference
from contracts.events.meetings import MeetingKind
from services.meetings import domain, timing, watch

AGREEMENT = reference.agreement(reference.DEFAULT_AGREEMENT_ID)


def test_due_soon_fires_at_oslo_midnight_seven_days_before_the_due_date_in_summer_time() -> None:
    assert timing.due_soon_at(date(2022, 4, 8), AGREEMENT) == datetime(2022, 3, 31, 22, tzinfo=UTC)


def test_due_soon_fires_at_oslo_midnight_in_winter_time() -> None:
    assert timing.due_soon_at(date(2022, 12, 20), AGREEMENT) == datetime(2022, 12, 12, 23, tzinfo=UTC)


def test_an_item_is_overdue_from_oslo_midnight_after_its_due_date() -> None:
    assert domain.overdue_at(date(2022, 4, 1)) == datetime(2022, 4, 1, 22, tzinfo=UTC)


def test_days_left_counts_oslo_calendar_days_and_never_goes_negative() -> None:
    just_after_oslo_midnight = datetime(2022, 3, 31, 22, 0, 1, tzinfo=UTC)
    assert timing.days_left(date(2022, 4, 8), just_after_oslo_midnight) == 7
    assert timing.days_left(date(2022, 4, 8), datetime(2022, 5, 1, tzinfo=UTC)) == 0


def test_a_gap_of_exactly_the_interval_is_accepted_and_the_next_day_is_overdue() -> None:
    interval = AGREEMENT.contact_meetings.regional_interval_days
    since = timing.overdue_since(date(2022, 1, 10), AGREEMENT, "vestland")
    assert (since - date(2022, 1, 10)).days == interval + 1


def test_a_level_that_never_met_is_overdue_counted_from_the_term_start() -> None:
    interval = AGREEMENT.contact_meetings.national_interval_days
    assert (timing.overdue_since(None, AGREEMENT, None) - AGREEMENT.term.start).days == interval + 1


def test_each_gap_has_its_own_timer_key_so_a_fired_one_never_blocks_the_next() -> None:
    first = timing.contact_meetings_key(AGREEMENT.id, "vestland", date(2022, 1, 10))
    second = timing.contact_meetings_key(AGREEMENT.id, "vestland", date(2022, 3, 10))
    assert first != second
    assert first.startswith(timing.contact_meetings_prefix(AGREEMENT.id, "vestland"))
    assert timing.contact_meetings_key(AGREEMENT.id, None, None).endswith("/national/after/term-start")


def test_action_item_timer_keys_share_the_item_prefix_so_completion_cancels_both() -> None:
    prefix = timing.action_item_prefix(AGREEMENT.id, "a-1")
    keys = [timing.action_item_key(AGREEMENT.id, "a-1", k) for k in (timing.DUE_SOON, timing.OVERDUE)]
    assert keys == [f"{prefix}due-soon", f"{prefix}overdue"]


def test_learning_network_gatherings_do_not_count_as_contact_meetings() -> None:
    assert watch.level_of(MeetingKind.LEARNING_NETWORK, "vestland") == (False, None)
    assert watch.level_of(MeetingKind.REGIONAL, "vestland") == (True, "vestland")
    assert watch.level_of(MeetingKind.NATIONAL, None) == (True, None)


def test_the_last_day_is_the_end_of_the_term_or_the_day_before_a_termination_took_effect() -> None:
    assert timing.last_day(AGREEMENT, None) == AGREEMENT.term.end
    assert timing.last_day(AGREEMENT, date(2022, 6, 1)) == date(2022, 5, 31)
    assert timing.last_day(AGREEMENT, AGREEMENT.term.end + timedelta(days=30)) == AGREEMENT.term.end


def test_one_prefix_covers_the_contact_meeting_watches_of_every_level_of_the_agreement() -> None:
    of_agreement = timing.contact_meetings_of(AGREEMENT.id)
    assert timing.contact_meetings_key(AGREEMENT.id, None, None).startswith(of_agreement)
    assert timing.contact_meetings_key(AGREEMENT.id, "vestland", date(2022, 1, 5)).startswith(of_agreement)
    assert not timing.contact_meetings_key(AGREEMENT.id + "-2", None, None).startswith(of_agreement)
