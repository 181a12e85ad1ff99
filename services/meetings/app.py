"""Composition root of the meetings service: `faststream run services.meetings.app:create_app --factory`."""

from __future__ import annotations

from pathlib import Path

from faststream import FastStream

from contracts import reference, topics
from runtime.clock import Clock
from runtime.service import ServiceDefinition, build_app
from services.meetings import handlers
from services.meetings.settings import MeetingsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def definition(settings: MeetingsSettings) -> ServiceDefinition:
    agreements_dir = Path(settings.agreements_dir) if settings.agreements_dir else reference.AGREEMENTS_DIR
    deps = handlers.Deps(
        agreements=reference.agreements(agreements_dir),
        regions=reference.regions(),
        organisations=reference.organisations(),
    )
    return ServiceDefinition(
        name="meetings",
        description="Contact meetings, decisions and action items of the Leve hele livet agreement.",
        migrations=MIGRATIONS,
        consumes=handlers.routes(deps),
        publishes=(topics.MEETINGS_EVENTS, topics.DEAD_LETTER),
    )


def create_app(settings: MeetingsSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or MeetingsSettings()
    return build_app(definition(settings), settings, clock)
