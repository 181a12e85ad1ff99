"""A consume pipeline over a bare database, with one handler for held meetings, verifying and signing with the
tests' keys as a service does: for tests of the pipeline itself, without a service around it."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from contracts import catalog
from runtime.clock import ManualClock
from runtime.handling import Handler
from runtime.pipeline import Pipeline
from runtime.verification import EventVerifier, TrustedKeys
from tests.support.events import national_meeting_held
from tests.support.signing import keys_for_tests

HELD = catalog.of(type(national_meeting_held())).name


def held_meeting_pipeline(pool: asyncpg.Pool, handler: Handler, *, name: str, max_tries: int) -> Pipeline:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    keys = keys_for_tests()
    return Pipeline(
        pool=pool,
        clock=clock,
        service=name,
        group_id=f"lhl-{name}",
        source=f"/lhl/{name}",
        topic_of=lambda topic: topic,
        handlers={HELD: handler},
        verifier=EventVerifier(TrustedKeys.installed(keys.registry), clock),
        signer=keys.ensure_service("meetings"),
        max_tries=max_tries,
    )
