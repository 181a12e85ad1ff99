"""Composition root of the meetings service: `faststream run services.meetings.app:create_app --factory`."""

from __future__ import annotations

from pathlib import Path

from faststream import FastStream

from contracts import reference, topics
from runtime.clock import Clock
from runtime.definition import Running, ServiceDefinition
from runtime.wiring import build_app
from services.meetings import checks, handlers, levels
from services.meetings.settings import MeetingsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def dependencies(settings: MeetingsSettings) -> handlers.Deps:
    return reference.ReferenceData.load(settings.agreements_dir)


def definition(deps: handlers.Deps) -> ServiceDefinition:
    async def watch_contact_meetings(running: Running) -> None:
        await levels.watch_levels_that_never_met(running.pool, deps.agreements, deps.regions, running.clock.now())

    return ServiceDefinition(
        name="meetings",
        description="Contact meetings, decisions and action items of the Leve hele livet agreement.",
        migrations=MIGRATIONS,
        consumes=handlers.routes(deps),
        checks=checks.admission(deps),
        publishes=(topics.MEETINGS_EVENTS, topics.DEAD_LETTER),
        timers=handlers.timer_handlers(deps),
        secondary=frozenset({topics.EVALUATIONS_EVENTS}),
        on_start=[watch_contact_meetings],
    )


def create_app(settings: MeetingsSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or MeetingsSettings()
    return build_app(definition(dependencies(settings)), settings, clock)
