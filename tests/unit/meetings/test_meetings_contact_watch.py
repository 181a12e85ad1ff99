"""The contact-meeting watch: armed from the latest meeting held at a level, stale once a newer one is held,
never beyond the agreement's last day, and stopped by a termination. Decided without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from contracts import reference
from contracts.events.meetings import ContactMeetingHeld, ContactMeetingsOverdue, MeetingKind, MeetingLevel
from services.meetings import domain, timing, watch
from services.meetings.decisions import Decision, RecordLevelHeld, RecordTermination, SaveMeeting
from tests.unit.meetings.builders import held, item, new_id

AGREEMENT = reference.agreement(reference.DEFAULT_AGREEMENT_ID)
HELD_ON = date(2022, 3, 10)
NOW = datetime(2022, 3, 10, 15, tzinfo=UTC)


def _hold(minutes: ContactMeetingHeld, *, held_before: date | None = None, last_day: date | None = None) -> Decision:
    return domain.hold_meeting(
        None,
        minutes,
        agreement=AGREEMENT,
        known={},
        early={},
        level_held_before=held_before,
        last_day=last_day or AGREEMENT.term.end,
        now=NOW,
        correlation_id="corr-1",
    )


def test_a_held_regional_meeting_rearms_its_levels_watch_from_the_day_it_was_held() -> None:
    decision = _hold(held(new_id("m"), held_on=HELD_ON), held_before=date(2022, 1, 5))
    assert RecordLevelHeld(AGREEMENT.id, "vestland", HELD_ON) in decision.changes
    assert [c.prefix for c in decision.cancel] == [timing.contact_meetings_prefix(AGREEMENT.id, "vestland")]
    [armed] = decision.arm
    since = HELD_ON + timedelta(days=timing.interval_days(AGREEMENT, "vestland") + 1)
    assert (armed.kind, armed.due_at) == (timing.CONTACT_MEETINGS_OVERDUE, timing.start_of_day(since))
    assert armed.key == timing.contact_meetings_key(AGREEMENT.id, "vestland", HELD_ON)
    assert dict(armed.payload) == {
        "agreement_id": AGREEMENT.id,
        "region": "vestland",
        "last_held_on": HELD_ON.isoformat(),
        "correlation_id": "corr-1",
    }


def test_an_older_or_same_day_meeting_leaves_the_watch_and_the_levels_record_where_they_are() -> None:
    for held_before in (HELD_ON + timedelta(days=30), HELD_ON):
        decision = _hold(held(new_id("m"), held_on=HELD_ON), held_before=held_before)
        assert not any(isinstance(change, RecordLevelHeld) for change in decision.changes)
        assert (decision.cancel, decision.arm) == ((), ())


def test_no_watch_is_armed_for_a_gap_that_would_start_after_the_agreements_last_day() -> None:
    decision = _hold(held(new_id("m"), held_on=HELD_ON), last_day=HELD_ON + timedelta(days=10))
    assert len(decision.cancel) == 1
    assert decision.arm == ()


def test_a_learning_network_gathering_leaves_every_watch_alone() -> None:
    minutes = held(new_id("m"), kind=MeetingKind.LEARNING_NETWORK, region="vestland")
    decision = _hold(minutes)
    assert [type(c) for c in decision.changes] == [SaveMeeting]
    assert (decision.cancel, decision.arm) == ((), ())


def test_a_held_meeting_is_announced_before_the_items_it_assigns() -> None:
    meeting_id, first, second = new_id("m"), new_id("a"), new_id("a")
    decision = _hold(held(meeting_id, items=(item(first), item(second))))
    assert [e.business_key for e in decision.emit] == [
        f"recorded/{meeting_id}",
        f"assigned/{first}",
        f"assigned/{second}",
    ]


def test_a_firing_watch_warns_of_the_gap_since_the_last_meeting() -> None:
    key = timing.contact_meetings_key(AGREEMENT.id, None, HELD_ON)
    decision = watch.warn_of_missing_meetings(AGREEMENT, None, HELD_ON, HELD_ON, key)
    [warning] = decision.events
    assert isinstance(warning, ContactMeetingsOverdue)
    assert (warning.level, warning.last_held_on, warning.overdue_since) == (
        MeetingLevel.NATIONAL,
        HELD_ON,
        HELD_ON + timedelta(days=timing.interval_days(AGREEMENT, None) + 1),
    )
    assert [(e.subject, e.business_key) for e in decision.emit] == [("contact-meetings/national", key)]


def test_a_watch_that_fires_after_a_newer_meeting_was_held_is_stale() -> None:
    key = timing.contact_meetings_key(AGREEMENT.id, "vestland", HELD_ON)
    later = HELD_ON + timedelta(days=3)
    assert watch.warn_of_missing_meetings(AGREEMENT, "vestland", HELD_ON, later, key) == Decision()
    assert watch.warn_of_missing_meetings(AGREEMENT, "vestland", None, HELD_ON, key) == Decision()


def test_a_level_that_never_met_is_watched_from_the_term_start() -> None:
    [armed] = watch.arm(AGREEMENT, None, None, None, AGREEMENT.term.end).arm
    assert armed.due_at == timing.start_of_day(timing.overdue_since(None, AGREEMENT, None))
    assert "correlation_id" not in armed.payload


def test_a_termination_stops_only_the_watches_due_from_its_effective_date() -> None:
    stop = watch.stop_after(AGREEMENT.id, date(2023, 1, 1))
    assert (stop.prefix, stop.due_from) == (
        timing.contact_meetings_of(AGREEMENT.id),
        timing.start_of_day(date(2023, 1, 1)),
    )


def test_the_earliest_termination_date_stands_whichever_event_told_it_first() -> None:
    later, earlier = date(2023, 3, 1), date(2023, 1, 1)
    in_force, decision = watch.note_termination(AGREEMENT.id, earlier, later, "ks", "agreement.terminated")
    assert in_force == earlier
    assert [c.due_from for c in decision.cancel] == [timing.start_of_day(earlier)]
    assert decision.changes == (RecordTermination(AGREEMENT.id, later, "ks", "agreement.terminated"),)
    assert watch.note_termination(AGREEMENT.id, None, later, "ks", "x")[0] == later
