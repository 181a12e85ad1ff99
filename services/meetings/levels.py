"""Regular contact meetings: one durable timer per level (national, or a county governor office) per gap."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import asyncpg

from contracts.events.meetings import ContactMeetingsOverdue, MeetingKind, MeetingLevel
from contracts.reference import Agreement, Regions
from runtime import timers
from runtime.db import Connection
from runtime.timers import TimerContext
from services.meetings import repository, timing


def level_of(kind: MeetingKind, region: str | None) -> tuple[bool, str | None]:
    """Whether the meeting counts as a contact meeting, and for which region (None: national).

    Learning-network gatherings are meeting places for municipalities, not the parties' contact meetings.
    """
    if kind is MeetingKind.LEARNING_NETWORK:
        return False, None
    return True, region if kind is MeetingKind.REGIONAL else None


async def _arm(
    conn: Connection,
    agreement: Agreement,
    region: str | None,
    last_held_on: date | None,
    correlation_id: str | None,
    last_day: date,
) -> None:
    since = timing.overdue_since(last_held_on, agreement, region)
    if since > last_day:
        return  # No watch beyond the term or a termination: the agreement no longer asks for meetings then.
    payload: dict[str, str | None] = {
        "agreement_id": agreement.id,
        "region": region,
        "last_held_on": last_held_on.isoformat() if last_held_on else None,
    }
    if correlation_id:
        payload["correlation_id"] = correlation_id
    key = timing.contact_meetings_key(agreement.id, region, last_held_on)
    await timers.schedule(conn, key, timing.CONTACT_MEETINGS_OVERDUE, timing.start_of_day(since), payload)


async def note_held(
    conn: Connection,
    agreement: Agreement,
    region: str | None,
    held_on: date,
    now: datetime,
    correlation_id: str,
    last_day: date,
) -> None:
    """Re-arm the level's watch from the latest meeting held, up to the agreement's `last_day`; an older meeting
    arriving late changes nothing."""
    previous = await repository.record_level_held(conn, agreement.id, region, held_on, now)
    if previous is not None and held_on <= previous:
        return
    await timers.cancel_prefix(conn, timing.contact_meetings_prefix(agreement.id, region), now)
    await _arm(conn, agreement, region, held_on, correlation_id, last_day)


async def watch_levels_that_never_met(
    pool: asyncpg.Pool, agreements: Mapping[str, Agreement], regions: Regions, now: datetime
) -> None:
    """At start, watch every level with no meeting yet from its agreement's term start.

    An agreement that ended (its term, or by termination) before the first start has nothing left to watch:
    warning about gaps in a finished collaboration would only be noise.
    """
    for agreement in agreements.values():
        async with pool.acquire() as conn:
            terminated_from = await repository.terminated_from(conn, agreement.id)
        last_day = timing.last_day(agreement, terminated_from)
        if now.date() > last_day:
            continue
        offices = [o.id for o in regions.county_governor_offices if o.contains(agreement.term.start)]
        for region in [None, *offices]:
            async with pool.acquire() as conn, conn.transaction():
                if await repository.start_watching_level(conn, agreement.id, region, now):
                    await _arm(conn, agreement, region, None, None, last_day)


def contact_meetings_overdue_handler(agreements: Mapping[str, Agreement]) -> timers.TimerHandler:
    async def warn_of_missing_contact_meetings(tctx: TimerContext) -> None:
        payload = tctx.timer.payload
        agreement = agreements[payload["agreement_id"]]
        region: str | None = payload["region"]
        last = date.fromisoformat(payload["last_held_on"]) if payload["last_held_on"] else None
        latest = await repository.last_held_on(tctx.conn, agreement.id, region)
        if latest is not None and (last is None or latest > last):
            return  # A newer meeting re-armed the watch; this timer is stale.
        await tctx.emitter.emit(
            ContactMeetingsOverdue(
                agreement_id=agreement.id,
                level=MeetingLevel.NATIONAL if region is None else MeetingLevel.REGIONAL,
                region=region,
                last_held_on=last,
                interval_days=timing.interval_days(agreement, region),
                overdue_since=timing.overdue_since(last, agreement, region),
            ),
            agreement_id=agreement.id,
            region=region,
            subject=f"contact-meetings/{region or 'national'}",
            business_key=tctx.timer.key,
        )

    return warn_of_missing_contact_meetings


async def stop_watching_after(conn: Connection, agreement: Agreement, terminated_from: date, now: datetime) -> int:
    """A termination ends the watch: gaps from its effective date on are no one's to close. Returns how many
    pending watches were cancelled."""
    return await timers.cancel_prefix(
        conn, timing.contact_meetings_of(agreement.id), now, due_from=timing.start_of_day(terminated_from)
    )
