"""Pure checks against reference data: offices, counties, organisations and focus areas valid on the meeting date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from contracts import catalog
from contracts.envelope import CloudEvent
from contracts.events.meetings import (
    ActionItemCompleted,
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
    MeetingKind,
)
from contracts.reference import (
    Agreement,
    Organisation,
    Organisations,
    ReferenceData,
    ReferenceDataError,
    Regions,
)
from contracts.rejections import Reason, Rejected
from runtime.admission import Check
from services.meetings.timing import oslo_date


def check_meeting_place(kind: MeetingKind, region: str | None, county: str | None, on: date, regions: Regions) -> None:
    """A regional meeting names a valid office (and, if given, a county of that office); a national one neither."""
    if kind is MeetingKind.REGIONAL and region is None:
        raise Rejected(Reason.INVALID_DATA, "data.region: a regional meeting must name its county governor office")
    if kind is MeetingKind.NATIONAL and region is not None:
        raise Rejected(Reason.INVALID_DATA, "data.region: a national meeting has no region")
    try:
        if region is not None:
            regions.office(region, on)
        if county is not None:
            if region is None:
                regions.county(county, on)
            else:
                regions.county_in_office(county, region, on)
    except ReferenceDataError as error:
        field = "data.county" if county is not None and "county" in str(error) else "data.region"
        raise Rejected(Reason.INVALID_REFERENCE, f"{field}: {error}") from error


def check_organisations(named: dict[str, str], on: date, organisations: Organisations, regions: Regions) -> None:
    """Every organisation named must exist on the date; `named` maps field path to organisation id."""
    for path, org_id in named.items():
        try:
            organisations.get(org_id, on, regions)
        except ReferenceDataError as error:
            raise Rejected(Reason.INVALID_REFERENCE, f"{path}: {error}") from error


def check_focus_areas(named: dict[str, str], agreement: Agreement) -> None:
    for path, focus_area in named.items():
        if focus_area not in agreement.focus_area_ids:
            known = ", ".join(sorted(agreement.focus_area_ids))
            raise Rejected(Reason.INVALID_REFERENCE, f"{path}: unknown focus area '{focus_area}' (known: {known})")


def check_within_agreement(path: str, day: date, agreement: Agreement, terminated_from: date | None = None) -> None:
    """Meetings of an agreement happen between its signing and the end of its term, or its termination."""
    if not agreement.signed_on <= day <= agreement.term.end:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"{path}: {day} is outside the agreement {agreement.id} "
            f"(signed {agreement.signed_on}, term ends {agreement.term.end})",
        )
    if terminated_from is not None and day >= terminated_from:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"{path}: {day} is after the agreement {agreement.id} ended: its termination took effect on "
            f"{terminated_from}",
        )


def check_scheduled(
    meeting: ContactMeetingScheduled,
    source: str,
    on: date,
    agreement: Agreement,
    regions: Regions,
    orgs: Organisations,
    terminated_from: date | None = None,
) -> None:
    check_within_agreement("data.scheduled_for", on, agreement, terminated_from)
    check_meeting_place(meeting.kind, meeting.region, meeting.county, on, regions)
    check_organisations({"data.organiser": meeting.organiser}, on, orgs, regions)
    check_source_is(source, meeting.organiser, "data.organiser", orgs)


def check_held(
    meeting: ContactMeetingHeld,
    source: str,
    agreement: Agreement,
    regions: Regions,
    orgs: Organisations,
    terminated_from: date | None = None,
) -> None:
    """Everything a held meeting must satisfy before it is recorded."""
    check_within_agreement("data.held_on", meeting.held_on, agreement, terminated_from)
    check_meeting_place(meeting.kind, meeting.region, meeting.county, meeting.held_on, regions)
    named = {"data.organiser": meeting.organiser}
    named |= {f"data.participants.{i}": p for i, p in enumerate(meeting.participants)}
    named |= {f"data.action_items.{i}.owner": a.owner for i, a in enumerate(meeting.action_items)}
    check_organisations(named, meeting.held_on, orgs, regions)
    check_source_is(source, meeting.organiser, "data.organiser", orgs)
    areas = {
        f"data.agenda.{i}.focus_areas.{j}": f for i, a in enumerate(meeting.agenda) for j, f in enumerate(a.focus_areas)
    }
    areas |= {
        f"data.decisions.{i}.focus_areas.{j}": f
        for i, d in enumerate(meeting.decisions)
        for j, f in enumerate(d.focus_areas)
    }
    check_focus_areas(areas, agreement)
    seen: set[str] = set()
    for i, item in enumerate(meeting.action_items):
        if item.action_item_id in seen:
            raise Rejected(
                Reason.INVALID_DATA,
                f"data.action_items.{i}.action_item_id: '{item.action_item_id}' appears twice",
            )
        seen.add(item.action_item_id)
        if item.due_on < meeting.held_on:
            raise Rejected(
                Reason.INVALID_DATA,
                f"data.action_items.{i}.due_on: {item.due_on} is before the meeting was held ({meeting.held_on})",
            )


def check_completed(completed: ActionItemCompleted, source: str, regions: Regions, orgs: Organisations) -> None:
    """Work may well be finished after the term ends, so only who reports it is checked: the reporting organisation
    must exist, and the source must speak at its level (its own system, or the meeting secretariat's)."""
    check_organisations({"data.completed_by": completed.completed_by}, completed.completed_on, orgs, regions)
    reporter = orgs.get(completed.completed_by, completed.completed_on, regions)
    check_source_at_level(source, reporter.region, orgs)


def _owner_of(source: str, orgs: Organisations) -> Organisation:
    owner = orgs.owner_of_source(source)
    if owner is None:
        raise Rejected(Reason.UNAUTHORISED_SOURCE, f"source: '{source}' is not registered for any organisation")
    return owner


def check_source_is(source: str, org_id: str, path: str, orgs: Organisations) -> None:
    """Minutes and plans come from the system of the organisation holding the secretariat."""
    owner = _owner_of(source, orgs)
    if owner.id != org_id:
        raise Rejected(
            Reason.UNAUTHORISED_SOURCE,
            f"source: '{source}' is registered for '{owner.id}', not for '{org_id}' named in {path}",
        )


def check_source_at_level(source: str, region: str | None, orgs: Organisations) -> None:
    """A regional meeting's events come from an organisation of that region; a national one's from a national
    party. For a rescheduling or cancellation, which do not name the organiser, this is what can be checked."""
    owner = _owner_of(source, orgs)
    if owner.region != region:
        level = f"region '{region}'" if region is not None else "the national level"
        raise Rejected(
            Reason.UNAUTHORISED_SOURCE,
            f"source: '{source}' is registered for '{owner.id}', which does not speak for {level}",
        )


def admission(deps: ReferenceData) -> Mapping[str, Check]:
    """Event type -> what the meetings service checks of it before anything else, against the reference data
    only: the same checks `lhl publish --dry-run` runs (see runtime.admission). Whether a termination has ended the
    agreement depends on the service's state, and is checked by the handler."""

    def scheduled(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, ContactMeetingScheduled)
        on = oslo_date(data.scheduled_for)
        check_scheduled(data, event.source, on, deps.agreement(data.agreement_id), deps.regions, deps.organisations)

    def rescheduled(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, ContactMeetingRescheduled)
        on = oslo_date(data.scheduled_for)
        check_within_agreement("data.scheduled_for", on, deps.agreement(data.agreement_id))
        check_meeting_place(data.kind, data.region, None, on, deps.regions)
        check_source_at_level(event.source, data.region, deps.organisations)

    def cancelled(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, ContactMeetingCancelled)
        deps.agreement(data.agreement_id)
        check_meeting_place(data.kind, data.region, None, oslo_date(event.time), deps.regions)
        check_source_at_level(event.source, data.region, deps.organisations)

    def held(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, ContactMeetingHeld)
        check_held(data, event.source, deps.agreement(data.agreement_id), deps.regions, deps.organisations)

    def completed(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, ActionItemCompleted)
        deps.agreement(data.agreement_id)
        check_completed(data, event.source, deps.regions, deps.organisations)

    return {
        catalog.of(ContactMeetingScheduled).name: scheduled,
        catalog.of(ContactMeetingRescheduled).name: rescheduled,
        catalog.of(ContactMeetingCancelled).name: cancelled,
        catalog.of(ContactMeetingHeld).name: held,
        catalog.of(ActionItemCompleted).name: completed,
    }
