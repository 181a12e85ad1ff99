"""Participants, offices, counties and focus areas must be known and valid on the meeting date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from contracts import reference
from contracts.events.meetings import AgendaItem, ContactMeetingHeld, MeetingKind
from contracts.rejections import Reason, Rejected
from services.meetings import checks
from tests.unit.meetings.builders import completed, held, item, new_id, scheduled

AGREEMENT = reference.agreement(reference.DEFAULT_AGREEMENT_ID)
REGIONS = reference.regions()
ORGS = reference.organisations()
VESTLAND = "/statsforvalteren/vestland/moter"
HOD = "/hod/saksbehandling"


def secretariat(meeting: ContactMeetingHeld) -> str:
    """The source registered for the organiser the builders give a meeting."""
    return VESTLAND if meeting.organiser == "sf-vestland" else HOD


def rejection_of(meeting: ContactMeetingHeld) -> Rejected:
    with pytest.raises(Rejected) as raised:
        checks.check_held(meeting, secretariat(meeting), AGREEMENT, REGIONS, ORGS)
    return raised.value


def test_a_valid_regional_meeting_passes() -> None:
    checks.check_held(held(new_id("m"), items=(item(new_id("a")),)), VESTLAND, AGREEMENT, REGIONS, ORGS)


def test_a_valid_national_meeting_passes() -> None:
    checks.check_held(held(new_id("m"), kind=MeetingKind.NATIONAL, region=None), HOD, AGREEMENT, REGIONS, ORGS)


def test_a_county_from_another_period_is_rejected_with_the_period_it_was_valid() -> None:
    rejected = rejection_of(held(new_id("m"), county="12"))
    assert rejected.reason is Reason.INVALID_REFERENCE
    assert rejected.message.startswith("data.county: county '12' is not valid on 2022-03-10")
    assert "Hordaland" in rejected.message


def test_a_county_of_another_office_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), county="50"))
    assert rejected.message.startswith("data.county: county '50'")
    assert "does not belong to office 'vestland'" in rejected.message


def test_an_unknown_office_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), region="atlantis", county=None, organiser="hod", participants=("hod",)))
    assert rejected.reason is Reason.INVALID_REFERENCE
    assert rejected.message.startswith("data.region: unknown county governor office 'atlantis'")


def test_a_regional_meeting_without_an_office_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), region=None, kind=MeetingKind.REGIONAL))
    assert (rejected.reason, rejected.message) == (
        Reason.INVALID_DATA,
        "data.region: a regional meeting must name its county governor office",
    )


def test_a_national_meeting_with_a_region_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), kind=MeetingKind.NATIONAL))
    assert rejected.message == "data.region: a national meeting has no region"


def test_an_unknown_participant_is_rejected_with_its_position() -> None:
    rejected = rejection_of(held(new_id("m"), participants=("sf-vestland", "nobody")))
    assert rejected.reason is Reason.INVALID_REFERENCE
    assert rejected.message == "data.participants.1: unknown organisation 'nobody'"


def test_a_municipality_whose_county_did_not_exist_on_the_meeting_date_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), participants=("sf-vestland", "kommune-1201")))
    assert rejected.message.startswith("data.participants.1: county '12' is not valid on 2022-03-10")


def test_an_action_item_owner_must_be_known() -> None:
    rejected = rejection_of(held(new_id("m"), items=(item(new_id("a"), owner="ghost-org"),)))
    assert rejected.message == "data.action_items.0.owner: unknown organisation 'ghost-org'"


def test_an_unknown_focus_area_is_rejected() -> None:
    agenda = (AgendaItem(title="Digitalisering", focus_areas=("digitalisering",)),)
    rejected = rejection_of(held(new_id("m"), agenda=agenda))
    assert rejected.message.startswith("data.agenda.0.focus_areas.0: unknown focus area 'digitalisering'")


def test_a_meeting_held_after_the_term_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), held_on=date(2024, 2, 1), county="46"))
    assert rejected.reason is Reason.RULE_VIOLATED
    assert rejected.message.startswith("data.held_on: 2024-02-01 is outside the agreement")


def test_an_action_item_id_twice_in_one_meeting_is_rejected() -> None:
    twice = new_id("a")
    rejected = rejection_of(held(new_id("m"), items=(item(twice), item(twice))))
    assert rejected.message == f"data.action_items.1.action_item_id: '{twice}' appears twice"


def test_an_action_item_due_before_the_meeting_is_rejected() -> None:
    rejected = rejection_of(held(new_id("m"), items=(item(new_id("a"), due_on=date(2022, 3, 1)),)))
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message == "data.action_items.0.due_on: 2022-03-01 is before the meeting was held (2022-03-10)"


def test_a_scheduling_names_a_known_organiser() -> None:
    meeting = scheduled(new_id("m"), organiser="nobody")
    with pytest.raises(Rejected) as raised:
        checks.check_scheduled(meeting, VESTLAND, date(2022, 3, 10), AGREEMENT, REGIONS, ORGS)
    assert raised.value.message == "data.organiser: unknown organisation 'nobody'"


def test_a_completion_names_a_known_organisation() -> None:
    with pytest.raises(Rejected) as raised:
        checks.check_completed(completed(new_id("a"), new_id("m"), by="nobody"), VESTLAND, REGIONS, ORGS)
    assert raised.value.message == "data.completed_by: unknown organisation 'nobody'"


def test_a_meeting_held_on_the_day_a_termination_took_effect_is_rejected_with_that_day() -> None:
    meeting = held(new_id("m"), held_on=date(2022, 3, 10))
    with pytest.raises(Rejected) as raised:
        checks.check_held(meeting, secretariat(meeting), AGREEMENT, REGIONS, ORGS, terminated_from=date(2022, 3, 10))
    assert raised.value.reason is Reason.RULE_VIOLATED
    assert raised.value.message == (
        f"data.held_on: 2022-03-10 is after the agreement {AGREEMENT.id} ended: its termination took effect on "
        "2022-03-10"
    )


def test_a_meeting_held_the_day_before_a_termination_took_effect_passes() -> None:
    meeting = held(new_id("m"), held_on=date(2022, 3, 10))
    checks.check_held(meeting, VESTLAND, AGREEMENT, REGIONS, ORGS, date(2022, 3, 11))


def source_rejection(check: Callable[[], None]) -> str:
    with pytest.raises(Rejected) as raised:
        check()
    assert raised.value.reason is Reason.UNAUTHORISED_SOURCE
    return raised.value.message


def test_minutes_from_another_organisations_system_are_rejected_naming_both() -> None:
    meeting = held(new_id("m"))
    message = source_rejection(lambda: checks.check_held(meeting, "/ks/vestland", AGREEMENT, REGIONS, ORGS))
    assert (
        message
        == "source: '/ks/vestland' is registered for 'ks-vestland', not for 'sf-vestland' named in data.organiser"
    )


def test_a_plan_from_an_unregistered_source_is_rejected() -> None:
    meeting = scheduled(new_id("m"))
    message = source_rejection(
        lambda: checks.check_scheduled(meeting, "/somebody", date(2022, 3, 10), AGREEMENT, REGIONS, ORGS)
    )
    assert message == "source: '/somebody' is not registered for any organisation"


def test_a_cancellation_must_come_from_an_organisation_of_the_meetings_region() -> None:
    checks.check_source_at_level("/ks/vestland", "vestland", ORGS)
    message = source_rejection(lambda: checks.check_source_at_level("/ks/rogaland", "vestland", ORGS))
    assert (
        message == "source: '/ks/rogaland' is registered for 'ks-rogaland', which does not speak for region 'vestland'"
    )
    message = source_rejection(lambda: checks.check_source_at_level(VESTLAND, None, ORGS))
    assert message.endswith("which does not speak for the national level")


def test_a_completion_comes_from_the_level_of_the_organisation_that_reports_it() -> None:
    done = completed(new_id("a"), new_id("m"), by="kommune-4601")
    checks.check_completed(done, VESTLAND, REGIONS, ORGS)
    message = source_rejection(lambda: checks.check_completed(done, HOD, REGIONS, ORGS))
    assert (
        message == "source: '/hod/saksbehandling' is registered for 'hod', which does not speak for region 'vestland'"
    )
