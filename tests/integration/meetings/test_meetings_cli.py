"""The meetings CLI lists meetings and open or overdue action items per agreement, region and period."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from contracts import topics
from contracts.events.meetings import MeetingKind
from runtime.clock import ManualClock
from services.meetings import cli as meetings_cli
from tests.integration.meetings.helpers import meetings_app, of_type, publish
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import running
from tests.unit.meetings.builders import AGREEMENT, completed, held, item, new_id, scheduled

REPO = Path(__file__).resolve().parents[3]


async def cli(infra: Infra, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": infra.database_url, "COLUMNS": "250"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.meetings.cli",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def cli_json(infra: Infra, *args: str) -> list[dict[str, Any]]:
    """In-process (in a thread, since the CLI runs its own event loop), which is much faster than a subprocess."""
    env = {"DATABASE_URL": infra.database_url}
    result = await asyncio.to_thread(CliRunner().invoke, meetings_cli.app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


async def test_cli_lists_meetings_and_open_or_overdue_action_items_by_region_period_and_status(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 12, 12, tzinfo=UTC))
    regional, national, planned = new_id("m"), new_id("m"), new_id("m")
    late, done, later = new_id("a"), new_id("a"), new_id("a")
    items = (item(late, due_on=date(2022, 3, 20)), item(done, due_on=date(2022, 3, 25)), item(later))
    app = meetings_app(infra, run_id, clock)
    async with running(app) as runtime:
        assert runtime.timers is not None
        await publish(bus, held(regional, items=items))
        await publish(bus, held(national, kind=MeetingKind.NATIONAL, region=None, held_on=date(2022, 3, 11)))
        await publish(bus, scheduled(planned, at=datetime(2022, 6, 1, 9, tzinfo=UTC)))
        await publish(bus, completed(done, regional, on=date(2022, 3, 21)), region="vestland")
        await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "closed", f"action-item/{done}")) == 1)
        clock.set(datetime(2022, 3, 21, 12, tzinfo=UTC))
        await runtime.timers.fire_due()
        await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "overdue", f"action-item/{late}")) == 1)
        schema = runtime.settings.schema_name

    base = ("--agreement", AGREEMENT, "--schema", schema)
    vestland_in_march = await cli_json(infra, "list-meetings", *base, "--region", "vestland", "--to", "2022-03-31")
    national_meetings = await cli_json(infra, "list-meetings", *base, "--region", "national")
    every_meeting = await cli_json(infra, "list-meetings", *base)
    still_open = await cli_json(infra, "list-action-items", *base, "--region", "vestland", "--status", "open")
    overdue = await cli_json(infra, "list-action-items", *base, "--status", "overdue")
    due_in_april = await cli_json(infra, "list-action-items", *base, "--from", "2022-04-01", "--to", "2022-04-30")
    code, table, _ = await cli(infra, "list-action-items", *base, "--status", "overdue")
    bad_code, _, bad_err = await cli(infra, "list-meetings", "--schema", f"t{run_id}_nothing_here")

    assert [(m["meeting_id"], m["status"], m["action_items"]) for m in vestland_in_march] == [(regional, "held", 3)]
    assert [(m["meeting_id"], m["kind"], m["day"]) for m in national_meetings] == [(national, "national", "2022-03-11")]
    assert [m["meeting_id"] for m in every_meeting] == [regional, national, planned]
    assert every_meeting[-1]["status"] == "scheduled"
    assert [(i["action_item_id"], i["status"]) for i in still_open] == [(late, "overdue"), (later, "open")]
    assert [(i["action_item_id"], i["owner"], i["due_on"]) for i in overdue] == [(late, "ks-vestland", "2022-03-20")]
    assert [i["action_item_id"] for i in due_in_april] == [later]
    assert code == 0
    assert "Action items (1)" in table
    assert late in table
    assert bad_code == 2
    assert "no meetings tables" in bad_err
