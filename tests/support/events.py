"""Realistic events that several test suites publish, built from the contracts."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from contracts.events.meetings import ActionItem, AgendaItem, ContactMeetingHeld, Decision, MeetingKind


def vestland_meeting_held(
    meeting_id: str, *, county: str = "46", held_on: date = date(2022, 3, 10)
) -> ContactMeetingHeld:
    return ContactMeetingHeld(
        meeting_id=meeting_id,
        agreement_id="leve-hele-livet-2019-2023",
        kind=MeetingKind.REGIONAL,
        region="vestland",
        county=county,
        held_on=held_on,
        organiser="sf-vestland",
        participants=("sf-vestland", "ks-vestland", "usht-vestland", "kommune-4601"),
        agenda=(AgendaItem(title="Mat og måltider i hjemmetjenesten", focus_areas=("mat-og-maltider",)),),
        decisions=(Decision(decision_id=f"{meeting_id}-d1", text="Felles læringsnettverk", focus_areas=()),),
        action_items=(
            ActionItem(
                action_item_id=f"{meeting_id}-a1",
                text="Invitere kommunene",
                owner="ks-vestland",
                due_on=date(2022, 4, 1),
            ),
            ActionItem(
                action_item_id=f"{meeting_id}-a2",
                text="Kartlegge status",
                owner="kommune-4601",
                due_on=date(2022, 5, 1),
            ),
        ),
    )


NATIONAL_SECRETARIAT = "/hdir/leve-hele-livet"
"""The source registered for the Directorate of Health, which organises the national meetings below."""


def national_meeting_held(*, held_on: date = date(2021, 9, 1), item_text: str | None = None) -> ContactMeetingHeld:
    """A national contact meeting organised by the Directorate of Health, with a fresh id; with `item_text`, one
    action item for KS due 30 days later."""
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    items = (
        ()
        if item_text is None
        else (
            ActionItem(action_item_id=f"{meeting_id}-a1", text=item_text, owner="ks", due_on=held_on + timedelta(30)),
        )
    )
    return ContactMeetingHeld(
        meeting_id=meeting_id,
        agreement_id="leve-hele-livet-2019-2023",
        kind=MeetingKind.NATIONAL,
        held_on=held_on,
        organiser="hdir",
        participants=("hod", "ks", "hdir"),
        action_items=items,
    )
