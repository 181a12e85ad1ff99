"""Thin handlers: validate against reference data, call the domain, save, emit through the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts import catalog, reference, topics
from contracts.events.meetings import (
    ActionItemAssigned,
    ContactMeetingHeld,
    ContactMeetingRecorded,
    MeetingStatus,
)
from runtime.pipeline import Handler, HandlerContext
from services.meetings import domain, repository


@dataclass(frozen=True)
class Deps:
    agreements: Mapping[str, reference.Agreement]
    regions: reference.Regions
    organisations: reference.Organisations

    def agreement(self, agreement_id: str) -> reference.Agreement:
        found = self.agreements.get(agreement_id)
        if found is None:
            raise reference.ReferenceDataError(
                f"data.agreement_id: unknown agreement '{agreement_id}' (known: {', '.join(sorted(self.agreements))})"
            )
        return found


async def record_held_meeting(deps: Deps, ctx: HandlerContext, meeting: ContactMeetingHeld) -> None:
    agreement = deps.agreement(meeting.agreement_id)
    domain.check_held(meeting, agreement, deps.regions, deps.organisations)
    await repository.record_held(ctx.conn, meeting, ctx.now)
    ids = [a.action_item_id for a in meeting.action_items]
    fresh = domain.new_action_items(meeting, await repository.known_action_items(ctx.conn, meeting.agreement_id, ids))
    await ctx.emit(
        ContactMeetingRecorded(
            meeting_id=meeting.meeting_id,
            agreement_id=meeting.agreement_id,
            kind=meeting.kind,
            region=meeting.region,
            status=MeetingStatus.HELD,
            held_on=meeting.held_on,
            participants=meeting.participants,
            decision_count=len(meeting.decisions),
            action_item_count=len(meeting.action_items),
        ),
        agreement_id=meeting.agreement_id,
        region=meeting.region,
        subject=f"meeting/{meeting.meeting_id}",
        business_key=f"recorded/{meeting.meeting_id}",
    )
    for item in fresh:
        await repository.add_action_item(ctx.conn, meeting, item, ctx.now)
        await ctx.emit(
            ActionItemAssigned(
                action_item_id=item.action_item_id,
                meeting_id=meeting.meeting_id,
                agreement_id=meeting.agreement_id,
                region=meeting.region,
                owner=item.owner,
                text=item.text,
                due_on=item.due_on,
            ),
            agreement_id=meeting.agreement_id,
            region=meeting.region,
            subject=f"action-item/{item.action_item_id}",
            business_key=f"assigned/{item.action_item_id}",
        )


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Topic -> event type -> handler, bound to their dependencies."""

    async def on_held(ctx: HandlerContext, data: ContactMeetingHeld) -> None:
        await record_held_meeting(deps, ctx, data)

    return {topics.MEETINGS_INGRESS: {catalog.of(ContactMeetingHeld).name: on_held}}
