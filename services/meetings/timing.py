"""When reminders fall due: Oslo calendar days turned into absolute UTC instants, and the timers' business keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final

from contracts import oslo_calendar
from contracts.reference import Agreement
from contracts.topics import NATIONAL

DUE_SOON: Final = "action_item_due_soon"
OVERDUE: Final = "action_item_overdue"
CONTACT_MEETINGS_OVERDUE: Final = "contact_meetings_overdue"


@lru_cache(maxsize=4096)
def start_of_day(day: date) -> datetime:
    """00:00 Europe/Oslo on the day, as a UTC instant (the offset follows summer time). Kept for the days asked
    last: every item of a held meeting asks for its due date's, and the items of a batch share a few dates."""
    return oslo_calendar.start_of_day(day).astimezone(UTC)


def oslo_date(moment: datetime) -> date:
    return oslo_calendar.day_of(moment)


def due_soon_at(due_on: date, agreement: Agreement) -> datetime:
    return start_of_day(due_on - timedelta(days=agreement.action_items.due_soon_days_before))


def days_left(due_on: date, now: datetime) -> int:
    return max(0, (due_on - oslo_date(now)).days)


def interval_days(agreement: Agreement, region: str | None) -> int:
    rules = agreement.contact_meetings
    return rules.national_interval_days if region is None else rules.regional_interval_days


def overdue_since(last_held_on: date | None, agreement: Agreement, region: str | None) -> date:
    """The first day without a meeting inside the interval; a gap of exactly the interval is still accepted."""
    base = last_held_on or agreement.term.start
    return base + timedelta(days=interval_days(agreement, region) + 1)


def last_day(agreement: Agreement, terminated_from: date | None) -> date:
    """The last day the agreement runs: the end of its term, or the day before its termination took effect."""
    if terminated_from is None:
        return agreement.term.end
    return min(agreement.term.end, terminated_from - timedelta(days=1))


def contact_meetings_of(agreement_id: str) -> str:
    """The key prefix of every contact-meeting watch of the agreement, at all levels."""
    return f"contact-meetings/{agreement_id}/"


def action_item_prefix(agreement_id: str, action_item_id: str) -> str:
    return f"action-item/{agreement_id}/{action_item_id}/"


def action_item_key(agreement_id: str, action_item_id: str, kind: str) -> str:
    suffix = "due-soon" if kind == DUE_SOON else "overdue"
    return action_item_prefix(agreement_id, action_item_id) + suffix


def contact_meetings_prefix(agreement_id: str, region: str | None) -> str:
    return f"{contact_meetings_of(agreement_id)}{region or NATIONAL}/"


def contact_meetings_key(agreement_id: str, region: str | None, last_held_on: date | None) -> str:
    """One key per gap: a fired key never fires again, so each re-arm after a held meeting needs its own."""
    after = last_held_on.isoformat() if last_held_on else "term-start"
    return f"{contact_meetings_prefix(agreement_id, region)}after/{after}"
