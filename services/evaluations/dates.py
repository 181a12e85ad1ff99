"""Date rules of the agreement: Oslo day boundaries and calendar-month notice periods."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from contracts import oslo_calendar


def oslo_day(moment: datetime) -> date:
    """The calendar day in Norway at an instant; deadlines are Norwegian days, not UTC days."""
    return oslo_calendar.day_of(moment)


def start_of_day(day: date) -> datetime:
    """The instant an Oslo day begins (aware), so timers fire at local midnight across DST changes."""
    return oslo_calendar.start_of_day(day)


def day_after(day: date) -> date:
    return day + timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """Calendar months; a day missing in the target month becomes its last day (30 Nov + 3 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_late(reporting_date: date, received_at: datetime) -> bool:
    """A report received on the reporting date (Oslo time) is on time; from the next Oslo day it is late."""
    return oslo_day(received_at) > reporting_date
