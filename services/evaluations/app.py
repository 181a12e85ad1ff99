"""Composition root of the evaluations service: `faststream run services.evaluations.app:create_app --factory`."""

from __future__ import annotations

from pathlib import Path

from faststream import FastStream

from contracts import reference, topics
from runtime.clock import Clock
from runtime.definition import Running, ServiceDefinition
from runtime.wiring import build_app
from services.evaluations import checks, deadlines, handlers
from services.evaluations.settings import EvaluationsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def dependencies(settings: EvaluationsSettings) -> handlers.Deps:
    return reference.ReferenceData.load(settings.agreements_dir)


def definition(deps: handlers.Deps) -> ServiceDefinition:
    async def schedule_term_timers(running: Running) -> None:
        await deadlines.schedule_term(running.pool, deps, running.clock.now())

    return ServiceDefinition(
        name="evaluations",
        description="Regional status reports, the annual evaluation and the term of the Leve hele livet agreement.",
        migrations=MIGRATIONS,
        consumes=handlers.routes(deps),
        checks=checks.admission(deps),
        publishes=(topics.EVALUATIONS_EVENTS, topics.DEAD_LETTER),
        timers=deadlines.timer_routes(deps),
        on_start=[schedule_term_timers],
    )


def create_app(settings: EvaluationsSettings | None = None, clock: Clock | None = None) -> FastStream:
    settings = settings or EvaluationsSettings()
    return build_app(definition(dependencies(settings)), settings, clock)
