"""Example events of contact meetings and action items: what secretariats publish and the meetings service derives."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts.events import meetings as mt
from contracts.events.base import EventData
from lhl.contract_examples.example import AGREEMENT, OSLO_WINTER, Example

_MEETING = "sfvl-2022-03-10"
_ITEM = "sfvl-2022-03-10-t1"


def _held_meeting() -> mt.ContactMeetingHeld:
    return mt.ContactMeetingHeld(
        meeting_id=_MEETING,
        agreement_id=AGREEMENT,
        kind=mt.MeetingKind.REGIONAL,
        region="vestland",
        held_on=date(2022, 3, 10),
        county="46",
        organiser="sf-vestland",
        participants=("sf-vestland", "ks-vestland", "usht-vestland", "kommune-4601"),
        agenda=(
            mt.AgendaItem(title="Status for planarbeidet i kommunene", focus_areas=("aldersvennlig-samfunn",)),
            mt.AgendaItem(title="Måltidsvaner på sykehjem", focus_areas=("mat-og-maltider",)),
        ),
        decisions=(
            mt.Decision(
                decision_id=f"{_MEETING}-v1",
                text="Det regionale støtteapparatet tilbyr planverksted for alle kommuner i fylket høsten 2022.",
                focus_areas=("aldersvennlig-samfunn",),
            ),
        ),
        action_items=(
            mt.ActionItem(
                action_item_id=_ITEM,
                text="Sende invitasjon til planverksted til alle kommuner i Vestland.",
                owner="ks-vestland",
                due_on=date(2022, 6, 1),
            ),
        ),
    )


def _item(model: type[mt.ActionItemAssigned] | type[mt.ActionItemOverdue]) -> EventData:
    return model(
        action_item_id=_ITEM,
        meeting_id=_MEETING,
        agreement_id=AGREEMENT,
        region="vestland",
        owner="ks-vestland",
        text="Sende invitasjon til planverksted til alle kommuner i Vestland.",
        due_on=date(2022, 6, 1),
    )


def _meeting_examples() -> list[Example]:
    regional = mt.MeetingKind.REGIONAL
    step, source, subject = "vestland-meeting-2022-03", "/statsforvalteren/vestland/moter", f"meeting/{_MEETING}"
    return [
        Example(
            mt.ContactMeetingScheduled(
                meeting_id=_MEETING,
                agreement_id=AGREEMENT,
                kind=regional,
                region="vestland",
                scheduled_for=datetime(2022, 3, 3, 10, 0, tzinfo=OSLO_WINTER),
                title="Regionalt kontaktmøte Leve hele livet, Vestland",
                organiser="sf-vestland",
                county="46",
            ),
            source,
            datetime(2022, 1, 20, 8, 15, tzinfo=UTC),
            subject,
            step,
        ),
        Example(
            mt.ContactMeetingRescheduled(
                meeting_id=_MEETING,
                agreement_id=AGREEMENT,
                kind=regional,
                region="vestland",
                scheduled_for=datetime(2022, 3, 10, 10, 0, tzinfo=OSLO_WINTER),
                reason="Flyttet en uke for å unngå kollisjon med kommunestyremøter.",
            ),
            source,
            datetime(2022, 2, 14, 12, 40, tzinfo=UTC),
            subject,
            step,
        ),
        Example(_held_meeting(), source, datetime(2022, 3, 11, 9, 5, tzinfo=UTC), subject, step),
        Example(
            mt.ContactMeetingCancelled(
                meeting_id="sfvl-2022-12-08",
                agreement_id=AGREEMENT,
                kind=mt.MeetingKind.REGIONAL,
                region="vestland",
                reason="Avlyst på grunn av uvær; saken tas opp på neste møte.",
            ),
            source,
            datetime(2022, 12, 7, 15, 30, tzinfo=UTC),
            "meeting/sfvl-2022-12-08",
            "vestland-meeting-2022-12",
        ),
        Example(
            mt.ActionItemCompleted(
                action_item_id=_ITEM,
                meeting_id=_MEETING,
                agreement_id=AGREEMENT,
                completed_on=date(2022, 6, 14),
                completed_by="ks-vestland",
            ),
            "/ks/vestland",
            datetime(2022, 6, 14, 11, 0, tzinfo=UTC),
            f"action-item/{_ITEM}",
            step,
        ),
    ]


def _derived_meeting_examples() -> list[Example]:
    step, source = "vestland-meeting-2022-03", "/lhl/meetings"
    item_subject = f"action-item/{_ITEM}"
    return [
        Example(
            mt.ContactMeetingRecorded(
                meeting_id=_MEETING,
                agreement_id=AGREEMENT,
                kind=mt.MeetingKind.REGIONAL,
                region="vestland",
                status=mt.MeetingStatus.HELD,
                scheduled_for=datetime(2022, 3, 10, 10, 0, tzinfo=OSLO_WINTER),
                held_on=date(2022, 3, 10),
                participants=("sf-vestland", "ks-vestland", "usht-vestland", "kommune-4601"),
                decision_count=1,
                action_item_count=1,
            ),
            source,
            datetime(2022, 3, 11, 9, 5, 1, tzinfo=UTC),
            f"meeting/{_MEETING}",
            step,
            mt.ContactMeetingHeld,
        ),
        Example(
            _item(mt.ActionItemAssigned),
            source,
            datetime(2022, 3, 11, 9, 5, 1, tzinfo=UTC),
            item_subject,
            step,
            mt.ContactMeetingHeld,
        ),
        Example(
            mt.ActionItemDueSoon(**_item(mt.ActionItemAssigned).model_dump(), days_left=7),
            source,
            datetime(2022, 5, 25, 6, 0, tzinfo=UTC),
            item_subject,
            step,
            mt.ContactMeetingHeld,
        ),
        Example(
            _item(mt.ActionItemOverdue),
            source,
            datetime(2022, 6, 1, 22, 0, tzinfo=UTC),
            item_subject,
            step,
            mt.ContactMeetingHeld,
        ),
        Example(
            mt.ActionItemClosed(**_item(mt.ActionItemAssigned).model_dump(), completed_on=date(2022, 6, 14), late=True),
            source,
            datetime(2022, 6, 14, 11, 0, 1, tzinfo=UTC),
            item_subject,
            step,
            mt.ActionItemCompleted,
        ),
        Example(
            mt.ContactMeetingsOverdue(
                agreement_id=AGREEMENT,
                level=mt.MeetingLevel.REGIONAL,
                region="nordland",
                last_held_on=date(2021, 11, 18),
                interval_days=120,
                overdue_since=date(2022, 3, 18),
            ),
            source,
            datetime(2022, 3, 17, 23, 0, tzinfo=UTC),
            "contact-meetings/nordland",
            "nordland-contact-meetings-2022",
        ),
    ]


def examples() -> list[Example]:
    return [*_meeting_examples(), *_derived_meeting_examples()]
