"""The contact-meeting watch: one durable timer per level (national, or a county governor office) per gap.

Pure rules: which meetings count, when a level's watch is armed or re-armed, when it stops, and whether a
firing watch still has something to say.
"""

from __future__ import annotations

from datetime import date

from contracts.events.meetings import ContactMeetingsOverdue, MeetingKind, MeetingLevel
from contracts.reference import Agreement
from services.meetings import timing
from services.meetings.decisions import NOTHING, Arm, CancelTimers, Decision, Emit, RecordLevelHeld, RecordTermination


def level_of(kind: MeetingKind, region: str | None) -> tuple[bool, str | None]:
    """Whether the meeting counts as a contact meeting, and for which region (None: national).

    Learning-network gatherings are meeting places for municipalities, not the parties' contact meetings.
    """
    if kind is MeetingKind.LEARNING_NETWORK:
        return False, None
    return True, region if kind is MeetingKind.REGIONAL else None


def arm(
    agreement: Agreement, region: str | None, last_held_on: date | None, correlation_id: str | None, last_day: date
) -> Decision:
    """Watch the level for the gap after `last_held_on` (None: since the term start), up to `last_day`."""
    since = timing.overdue_since(last_held_on, agreement, region)
    if since > last_day:
        return NOTHING  # No watch beyond the term or a termination: the agreement no longer asks for meetings then.
    payload: dict[str, str | None] = {
        "agreement_id": agreement.id,
        "region": region,
        "last_held_on": last_held_on.isoformat() if last_held_on else None,
    }
    if correlation_id:
        payload["correlation_id"] = correlation_id
    key = timing.contact_meetings_key(agreement.id, region, last_held_on)
    return Decision(arm=(Arm(key, timing.CONTACT_MEETINGS_OVERDUE, timing.start_of_day(since), payload),))


def note_held(
    agreement: Agreement,
    region: str | None,
    held_on: date,
    previous: date | None,
    correlation_id: str,
    last_day: date,
) -> Decision:
    """Re-arm the level's watch from the latest meeting held, up to the agreement's `last_day`. A meeting no later
    than the level's latest changes nothing: the level keeps its latest date, and its row is not written again
    (a replay of many meetings of one level would otherwise update one row thousands of times in a row)."""
    if previous is not None and held_on <= previous:
        return NOTHING
    noted = Decision(changes=(RecordLevelHeld(agreement.id, region, held_on),))
    replaced = Decision(cancel=(CancelTimers(timing.contact_meetings_prefix(agreement.id, region)),))
    return noted + replaced + arm(agreement, region, held_on, correlation_id, last_day)


def stop_after(agreement_id: str, terminated_from: date) -> CancelTimers:
    """A termination ends the watch: gaps from its effective date on are no one's to close."""
    return CancelTimers(timing.contact_meetings_of(agreement_id), due_from=timing.start_of_day(terminated_from))


def note_termination(
    agreement_id: str, known: date | None, effective_date: date, given_by: str, learnt_from: str
) -> tuple[date, Decision]:
    """The termination date in force (the earliest effective date stands, whichever event told it first) and the
    decision: record it and stop every watch from that date on."""
    in_force = effective_date if known is None else min(known, effective_date)
    decision = Decision(
        changes=(RecordTermination(agreement_id, effective_date, given_by, learnt_from),),
        cancel=(stop_after(agreement_id, in_force),),
    )
    return in_force, decision


def warn_of_missing_meetings(
    agreement: Agreement, region: str | None, watched_from: date | None, latest: date | None, timer_key: str
) -> Decision:
    """The overdue warning of a firing watch armed after `watched_from`, unless a newer meeting (`latest`) has
    been held since; that meeting re-armed the watch and this timer is stale."""
    if latest is not None and (watched_from is None or latest > watched_from):
        return NOTHING
    warning = ContactMeetingsOverdue(
        agreement_id=agreement.id,
        level=MeetingLevel.NATIONAL if region is None else MeetingLevel.REGIONAL,
        region=region,
        last_held_on=watched_from,
        interval_days=timing.interval_days(agreement, region),
        overdue_since=timing.overdue_since(watched_from, agreement, region),
    )
    return Decision(emit=(Emit(warning, agreement.id, region, f"contact-meetings/{region or 'national'}", timer_key),))
