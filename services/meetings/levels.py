"""At start, the contact-meeting watch of every level that has not met yet (the rules are in watch.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import asyncpg

from contracts.reference import Agreement, Regions
from services.meetings import applier, repository, timing, watch


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
                    decision = watch.arm(agreement, region, None, None, last_day)
                    # Arming a watch emits nothing, so there is no emitter at start.
                    await applier.apply(decision, conn=conn, emitter=None, now=now)
