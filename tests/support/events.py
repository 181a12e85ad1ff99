"""Realistic events that several test suites publish, built from the contracts."""

from __future__ import annotations

from datetime import date

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
