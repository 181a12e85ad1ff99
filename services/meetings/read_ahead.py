"""A batch's held minutes read together: one round trip for what all of them need, where each took its own, and
their meetings written together at the batch's end (runtime.writes).

Only when no record of the pass writes what another one reads: every event of the pass is held minutes, no two of
one meeting, no item agreed at two of them. What they do share, the latest held date of a level, is kept here as
the pass's minutes record it, so each decides from the date the ones before it left. Any other batch (a plan, a
cancellation or a completion among the minutes, a meeting held twice) reads and writes record by record, and so
does a pass with a savepoint per record (`BatchReads.events` is empty then): a record rolled back alone would leave
wrong what was read ahead for the others. A catch-up on held meetings made two round trips per meeting; read ahead,
it makes two per batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from contracts.envelope import CloudEvent
from contracts.events.meetings import ContactMeetingHeld
from runtime.handling import HandlerContext
from services.meetings import repository, watch
from services.meetings.decisions import Decision, RecordLevelHeld
from services.meetings.repository import BeforeMinutes

Level = tuple[str, str]
"""An agreement's level: (agreement id, level key)."""


def watched_level(minutes: ContactMeetingHeld) -> str | None:
    """The key of the level whose watch counts the minutes; None for a meeting that does not count."""
    counts, region = watch.level_of(minutes.kind, minutes.region)
    return repository.level_key(region) if counts else None


class MinutesAhead:
    """What a pass's held minutes need, read for all of them at its start, and the levels as its minutes leave
    them."""

    def __init__(self, held: Sequence[ContactMeetingHeld], before: Sequence[BeforeMinutes]) -> None:
        self._before = {(m.agreement_id, m.meeting_id): found for m, found in zip(held, before, strict=True)}
        self._levels: dict[Level, date | None] = {}
        for minutes, found in zip(held, before, strict=True):
            level = watched_level(minutes)
            if level is not None:
                self._levels[(minutes.agreement_id, level)] = found.level_held_before

    def before(self, minutes: ContactMeetingHeld) -> BeforeMinutes:
        """What the minutes' rules need, the level as the pass's earlier minutes left it."""
        found = self._before[(minutes.agreement_id, minutes.meeting_id)]
        level = watched_level(minutes)
        if level is None:
            return found
        return dataclasses.replace(found, level_held_before=self._levels[(minutes.agreement_id, level)])

    def decided(self, decision: Decision) -> None:
        """Keep the levels the decision records held (as `repository.record_level_held` keeps the latest date)."""
        for change in decision.changes:
            if isinstance(change, RecordLevelHeld):
                level = (change.agreement_id, repository.level_key(change.region))
                known = self._levels.get(level)
                self._levels[level] = change.held_on if known is None else max(known, change.held_on)


def can_read_ahead(events: Sequence[tuple[CloudEvent, object]]) -> list[ContactMeetingHeld] | None:
    """The pass's minutes, when all its events (two or more: one alone gains nothing) are held minutes that write
    nothing another one of them reads."""
    held = [data for _, data in events if isinstance(data, ContactMeetingHeld)]
    if len(held) < 2 or len(held) != len(events):
        return None
    meetings = {(m.agreement_id, m.meeting_id) for m in held}
    items = [(m.agreement_id, item.action_item_id) for m in held for item in m.action_items]
    if len(meetings) != len(held) or len(set(items)) != len(items):
        return None
    return held


async def before_minutes(ctx: HandlerContext, minutes: ContactMeetingHeld) -> tuple[BeforeMinutes, MinutesAhead | None]:
    """What the minutes' rules need, from what was read ahead for the pass when it could be (then with it, to keep
    up to date and to write through `ctx.writes`), else read for these minutes alone."""
    ahead = await ctx.shared.once("held minutes", lambda: _read_ahead(ctx))
    if ahead is not None:
        return ahead.before(minutes), ahead
    [before] = await repository.load_before_minutes(ctx.conn, [(minutes, watched_level(minutes))])
    return before, None


async def _read_ahead(ctx: HandlerContext) -> MinutesAhead | None:
    held = can_read_ahead(ctx.shared.events)
    if held is None:
        return None
    before = await repository.load_before_minutes(ctx.conn, [(minutes, watched_level(minutes)) for minutes in held])
    return MinutesAhead(held, before)
