"""`lhl demo` replays the whole term through every service and ends with a verified audit trail."""

from __future__ import annotations

import io

from rich.console import Console

from lhl.demo.command import run
from lhl.demo.runner import DemoConfig
from tests.support.infra import Infra


async def test_the_demo_replays_the_whole_term_and_the_audit_trail_verifies(infra: Infra) -> None:
    screen = io.StringIO()
    config = DemoConfig(infra.kafka, infra.database_url, years=range(2019, 2024))
    outcome = await run(config, Console(file=screen, width=160))
    shown = screen.getvalue()
    # The careless publisher's four kinds of mistake, and KS's notice one month short, are each dead-lettered once.
    assert outcome.dead_letters == {
        "unauthorised_source": 1,
        "not_json": 1,
        "invalid_data": 1,
        "invalid_reference": 1,
        "rule_violated": 1,
        "unauthenticated": 1,
    }
    assert outcome.audit_verified, outcome.audit_output
    assert "1 recorded as failing verification" in outcome.audit_output
    assert "every record is covered by a checkpoint" in outcome.audit_output
    assert outcome.audit_records > outcome.published
    assert outcome.notifications > 0
    assert outcome.recipients >= 20
    # The status tables show each year with the office names of that year, and the one missing report.
    assert "Fylkesmannen i Vestland" in shown
    assert "Statsforvalteren i Vestland" in shown
    assert shown.count("missing") == 1
    assert "Agreement: expired after 2023-12-31" in shown
    assert "Evaluation 2021: completed late on 2021-12-27 by hod (deadline 2021-12-15)" in shown
