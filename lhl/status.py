"""`lhl status --year Y`: where each office and the national level stand, from the services' own read models."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from contracts import reference
from runtime.clock import SystemClock
from runtime.json_output import AsJson, print_json
from services.evaluations import cli as evaluations_cli
from services.evaluations.app import dependencies as evaluations_dependencies
from services.evaluations.dates import oslo_day
from services.evaluations.settings import EvaluationsSettings
from services.meetings import read_model
from services.meetings.settings import MeetingsSettings


@dataclass(frozen=True)
class MeetingsYear:
    """Contact meetings held and action items due in one year."""

    held: dict[str, int]
    items: dict[str, int]
    overdue: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"meetings_held": self.held, "action_items": self.items, "overdue_action_items": self.overdue}


async def meetings_year(settings: MeetingsSettings, agreement_id: str, year: int) -> MeetingsYear:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name})
    try:
        start, end = date(year, 1, 1), date(year, 12, 31)
        held_filter = read_model.Filter(agreement_id=agreement_id, start=start, end=end, status="held")
        meetings = await read_model.list_meetings(conn, held_filter)
        items = await read_model.list_action_items(
            conn, read_model.Filter(agreement_id=agreement_id, start=start, end=end)
        )
    finally:
        await conn.close()
    held = Counter("national" if m["region"] == "national" else m["kind"] for m in meetings)
    by_status = Counter(i["status"] for i in items)
    by_status["completed_late"] = sum(1 for i in items if i["late"])
    overdue = [
        {"action_item_id": i["action_item_id"], "owner": i["owner"], "due_on": i["due_on"].isoformat()}
        for i in items
        if i["status"] == "overdue"
    ]
    return MeetingsYear(dict(held), dict(by_status), overdue)


def render_meetings(year: int, summary: MeetingsYear, console: Console) -> None:
    table = Table(title=f"Contact meetings and action items {year}")
    table.add_column("What")
    table.add_column("Count", justify="right")
    for level in ("national", "regional", "learning_network"):
        table.add_row(f"{level.replace('_', ' ')} meetings held", str(summary.held.get(level, 0)))
    for status in ("closed", "completed_late", "open", "overdue"):
        table.add_row(f"action items {status.replace('_', ' ')}", str(summary.items.get(status, 0)))
    console.print(table)
    if summary.overdue:
        owners = Counter(i["owner"] for i in summary.overdue)
        console.print("Overdue action items by owner: " + ", ".join(f"{o} {n}" for o, n in sorted(owners.items())))


async def show_year(
    evaluations: EvaluationsSettings,
    meetings: MeetingsSettings,
    agreement_id: str,
    year: int,
    today: date,
    console: Console,
    as_json: bool = False,
) -> dict[str, Any]:
    deps = evaluations_dependencies(evaluations)
    reports = await evaluations_cli.load(evaluations, deps, agreement_id, year, today)
    summary = await meetings_year(meetings, agreement_id, year)
    if not as_json:
        evaluations_cli.render(reports, console)
        render_meetings(year, summary, console)
    return {**reports.to_json(), **summary.to_json()}


def status_command(
    year: Annotated[int, typer.Option("--year", help="The year to show.")],
    agreement: Annotated[str, typer.Option(help="Agreement id.")] = reference.DEFAULT_AGREEMENT_ID,
    as_json: AsJson = False,
    meetings_schema: Annotated[str, typer.Option(help="Schema of the meetings service.")] = "meetings",
    evaluations_schema: Annotated[str, typer.Option(help="Schema of the evaluations service.")] = "evaluations",
) -> None:
    """Reports per office and reporting date, contact meetings, action items, the evaluation and the term.

    It reads two services' schemas, so one DB_SCHEMA cannot name both: each has its own option, and DB_SCHEMA
    in the environment is not used.

    Example: `lhl status --year 2022`
    """
    console = Console()
    today = oslo_day(SystemClock().now())
    evaluations = EvaluationsSettings(db_schema=evaluations_schema)
    meetings = MeetingsSettings(db_schema=meetings_schema)
    shown = asyncio.run(show_year(evaluations, meetings, agreement, year, today, console, as_json=as_json))
    if as_json:
        print_json(shown)
