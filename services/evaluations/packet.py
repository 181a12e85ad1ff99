"""What a year holds: each office's standing per reporting date, meetings held and open action items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.events.evaluations import (
    EvaluationPacket,
    PacketActionItem,
    PacketMeetings,
    PacketReport,
    ReportStatus,
)
from contracts.events.meetings import MeetingKind
from contracts.reference import Agreement, Regions
from services.evaluations import domain, schedule


@dataclass(frozen=True)
class Submission:
    """One accepted report submission, as stored (every resubmission is kept)."""

    report_id: str
    region: str
    reporting_date: date
    late: bool
    focus_areas: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class HeldMeeting:
    kind: str
    region: str | None
    held_on: date


@dataclass(frozen=True)
class OpenActionItem:
    action_item_id: str
    owner: str
    due_on: date
    overdue: bool
    """Whether the meetings service said so (ActionItemOverdue); this service never decides it on its own."""

    def overdue_on(self, today: date) -> bool:
        """Whether the packet calls the item overdue on `today` (an Oslo calendar day).

        The one place this service looks at a due date itself, and why: the meetings service owns the rule
        (services/meetings/domain.py `overdue_at`: the whole due date is on time, overdue from the next day in
        Oslo) and announces it with ActionItemOverdue. But the packet is built when the evaluation timer fires,
        and meetings' overdue timer for an item due yesterday fires at the same Oslo midnight: its event may not
        have reached this service yet. Reading only the flag would then report a late item as on time, so the
        packet also applies the same calendar rule to the due date.
        """
        return self.overdue or self.due_on < today


@dataclass(frozen=True)
class OfficeStanding:
    region: str
    office_name: str | None
    reporting_date: date
    status: ReportStatus
    report_id: str | None


def offices_on(regions: Regions, day: date) -> list[tuple[str, str | None]]:
    """(office id, official name) of every county governor office that exists on the day."""
    return [(o.id, o.name_on(day)) for o in regions.county_governor_offices if o.contains(day)]


def standings(
    agreement: Agreement,
    regions: Regions,
    year: int,
    submissions: Sequence[Submission],
    today: date,
    terminated_from: date | None = None,
) -> list[OfficeStanding]:
    """Every office and reporting date owed in the year; `submissions` must be in the order they were received.

    Dates from an accepted termination's effective date on are not owed, so they are left out rather than missing.
    """
    result: list[OfficeStanding] = []
    for day in schedule.reporting_dates(agreement, year):
        if terminated_from is not None and day >= terminated_from:
            continue
        for region, name in offices_on(regions, day):
            mine = [s for s in submissions if s.region == region and s.reporting_date == day]
            first_late = mine[0].late if mine else None
            status = domain.report_status(day, first_late, today)
            result.append(OfficeStanding(region, name, day, status, mine[-1].report_id if mine else None))
    return result


def national_totals(reporting_date: date, submissions: Sequence[Submission]) -> dict[str, dict[str, int]]:
    """Counts per focus area summed over each office's latest submission for the date."""
    latest: dict[str, Submission] = {}
    for s in submissions:
        if s.reporting_date == reporting_date:
            latest[s.region] = s
    totals: dict[str, dict[str, int]] = {}
    for s in latest.values():
        for area in s.focus_areas:
            sums = totals.setdefault(area["focus_area"], Counter())
            for stage in ("municipalities_reached", "planning", "decided", "implementing"):
                sums[stage] += int(area[stage])
    return {area: dict(sums) for area, sums in sorted(totals.items())}


def build(
    standing: Sequence[OfficeStanding],
    meetings: Sequence[HeldMeeting],
    action_items: Sequence[OpenActionItem],
    today: date,
) -> EvaluationPacket:
    regional = Counter(m.region for m in meetings if m.kind == MeetingKind.REGIONAL and m.region)
    return EvaluationPacket(
        reports=tuple(
            PacketReport(region=s.region, reporting_date=s.reporting_date, status=s.status, report_id=s.report_id)
            for s in standing
        ),
        meetings=PacketMeetings(
            national_held=sum(1 for m in meetings if m.kind == MeetingKind.NATIONAL),
            regional_held=dict(sorted(regional.items())),
            learning_network_held=sum(1 for m in meetings if m.kind == MeetingKind.LEARNING_NETWORK),
        ),
        open_action_items=tuple(
            PacketActionItem(
                action_item_id=a.action_item_id,
                owner=a.owner,
                due_on=a.due_on,
                overdue=a.overdue_on(today),
            )
            for a in sorted(action_items, key=lambda a: (a.due_on, a.action_item_id))
        ),
    )
