"""The agreement's calendar: Norwegian days in Europe/Oslo, whose midnight moves with summer time.

Every deadline, reminder and report date of the agreement is a day in Oslo, not in UTC; each service reads days and
day boundaries here, so no two of them can disagree on when a day begins.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

OSLO: Final = ZoneInfo("Europe/Oslo")


def day_of(moment: datetime) -> date:
    """The calendar day in Norway at an instant."""
    return moment.astimezone(OSLO).date()


def start_of_day(day: date) -> datetime:
    """00:00 in Oslo on the day, as an aware datetime in Oslo time (the offset follows summer time)."""
    return datetime.combine(day, time.min, tzinfo=OSLO)


def at_hour(day: date, hour: int) -> datetime:
    """A whole hour of an Oslo day, in Oslo time."""
    return datetime.combine(day, time(hour), tzinfo=OSLO)
