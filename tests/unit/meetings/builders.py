"""Builders of valid meeting events with fresh random ids, so each test states only what it varies."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts.events.meetings import (
    ActionItem,
    ActionItemCompleted,
    AgendaItem,
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
    Decision,
    MeetingKind,
)

AGREEMENT = "leve-hele-livet-2019-2023"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _ref(meeting_id: str, kind: MeetingKind, region: str | None) -> dict[str, Any]:
    return {"meeting_id": meeting_id, "agreement_id": AGREEMENT, "kind": kind, "region": region}


def _organiser(region: str | None) -> str:
    """The organisation whose registered source the integration tests publish a meeting's events from."""
    return "sf-vestland" if region == "vestland" else "hod"


def scheduled(
    meeting_id: str,
    *,
    at: datetime = datetime(2022, 3, 10, 9, tzinfo=UTC),
    kind: MeetingKind = MeetingKind.REGIONAL,
    region: str | None = "vestland",
    title: str = "Dialogmøte Leve hele livet",
    **overrides: Any,
) -> ContactMeetingScheduled:
    values = {**_ref(meeting_id, kind, region), "scheduled_for": at, "title": title, "organiser": _organiser(region)}
    return ContactMeetingScheduled.model_validate(values | overrides)


def rescheduled(
    meeting_id: str, *, at: datetime, kind: MeetingKind = MeetingKind.REGIONAL, region: str | None = "vestland"
) -> ContactMeetingRescheduled:
    return ContactMeetingRescheduled.model_validate({**_ref(meeting_id, kind, region), "scheduled_for": at})


def cancelled(
    meeting_id: str, *, kind: MeetingKind = MeetingKind.REGIONAL, region: str | None = "vestland"
) -> ContactMeetingCancelled:
    return ContactMeetingCancelled.model_validate({**_ref(meeting_id, kind, region), "reason": "For få påmeldte"})


def item(action_item_id: str, *, due_on: date = date(2022, 4, 1), owner: str = "ks-vestland") -> ActionItem:
    return ActionItem(action_item_id=action_item_id, text="Invitere kommunene", owner=owner, due_on=due_on)


def held(
    meeting_id: str,
    *,
    held_on: date = date(2022, 3, 10),
    kind: MeetingKind = MeetingKind.REGIONAL,
    region: str | None = "vestland",
    items: tuple[ActionItem, ...] = (),
    **overrides: Any,
) -> ContactMeetingHeld:
    values: dict[str, Any] = {
        **_ref(meeting_id, kind, region),
        "held_on": held_on,
        "county": "46" if region == "vestland" else None,
        "organiser": _organiser(region),
        "participants": ("sf-vestland", "ks-vestland", "kommune-4601") if region == "vestland" else ("hod", "ks"),
        "agenda": (AgendaItem(title="Mat og måltider", focus_areas=("mat-og-maltider",)),),
        "decisions": (Decision(decision_id=f"{meeting_id}-d1", text="Felles læringsnettverk"),),
        "action_items": items,
    }
    return ContactMeetingHeld.model_validate(values | overrides)


def completed(
    action_item_id: str, meeting_id: str, *, on: date = date(2022, 3, 20), by: str = "ks-vestland"
) -> ActionItemCompleted:
    return ActionItemCompleted(
        action_item_id=action_item_id,
        meeting_id=meeting_id,
        agreement_id=AGREEMENT,
        completed_on=on,
        completed_by=by,
    )
