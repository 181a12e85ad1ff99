"""Status CLI: `python -m services.evaluations.cli status --year 2022 [--agreement ID] [--json]`."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from contracts import reference
from runtime import db
from runtime.clock import SystemClock
from runtime.json_output import print_json
from services.evaluations import repository
from services.evaluations.app import dependencies
from services.evaluations.dates import day_after, oslo_day, start_of_day
from services.evaluations.handlers import Deps
from services.evaluations.settings import EvaluationsSettings
from services.evaluations.status import YearStatus, year_status

app = typer.Typer(help="Regional status reports, the annual evaluation and the agreement's term.", add_completion=False)

_STATUS_TEXT = {"on_time": "on time", "late": "late", "missing": "missing", "not_yet_due": "not yet due"}
_STATUS_STYLE = {"on_time": "green", "late": "yellow", "missing": "red", "not_yet_due": "dim"}


@app.callback()
def main() -> None:
    """Read the evaluations service's database (DATABASE_URL, DB_SCHEMA as for the service)."""


async def load(settings: EvaluationsSettings, deps: Deps, agreement_id: str, year: int, today: date) -> YearStatus:
    agreement = deps.agreement(agreement_id)
    pool = await db.create_pool(settings.database_url, settings.schema_name, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            until = start_of_day(day_after(today))
            submissions = await repository.submissions(conn, agreement.id, date(year, 1, 1), date(year, 12, 31), until)
            completion = await repository.evaluation_completion(conn, agreement.id, year)
            term = await repository.term_state(conn, agreement.id)
    finally:
        await pool.close()
    return year_status(agreement, deps.regions, year, submissions, completion, term, today)


def _reports_table(status: YearStatus) -> Table:
    table = Table(title=f"{status.agreement_id}: regional reports {status.year} (as of {status.as_of})")
    table.add_column("Office")
    for day in status.reporting_dates:
        table.add_column(day.strftime("%d.%m.%Y"))
    names: dict[str, str] = {}
    cells: dict[str, dict[date, str]] = {}
    for s in status.standings:
        names.setdefault(s.region, s.office_name or s.region)
        style = _STATUS_STYLE[s.status.value]
        cells.setdefault(s.region, {})[s.reporting_date] = f"[{style}]{_STATUS_TEXT[s.status.value]}[/{style}]"
    for region, by_date in cells.items():
        table.add_row(names[region], *(by_date.get(d, "") for d in status.reporting_dates))
    return table


def _totals_table(day: date, totals: dict[str, dict[str, int]]) -> Table:
    table = Table(title=f"National picture {day.strftime('%d.%m.%Y')} (latest report per office)")
    for column in ("Focus area", "Reached", "Planning", "Decided", "Implementing"):
        table.add_column(column)
    for area, counts in totals.items():
        stages = ("municipalities_reached", "planning", "decided", "implementing")
        table.add_row(area, *(str(counts.get(stage, 0)) for stage in stages))
    return table


def render(status: YearStatus, console: Console) -> None:
    if status.standings:
        console.print(_reports_table(status))
    else:
        console.print(f"{status.agreement_id}: no regional reports are owed in {status.year}")
    for day, totals in status.totals.items():
        if totals:
            console.print(_totals_table(day, totals))
    console.print(f"Evaluation {status.year}: {status.evaluation}")
    console.print(f"Agreement: {status.term}")


@app.command("status")
def status_command(
    year: int = typer.Option(..., "--year", help="The year to show."),
    agreement: str = typer.Option(reference.DEFAULT_AGREEMENT_ID, "--agreement", help="Agreement id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts instead of text for people."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Show reports as they stood at the end of this day (YYYY-MM-DD; default today in Oslo). "
        "The term and a completed evaluation are shown as they are now.",
    ),
) -> None:
    """Offices by reporting date (on time / late / missing / not yet due), the evaluation and the term.

    Example: `lhl evaluations status --year 2021 --as-of 2021-12-31`
    """
    settings = EvaluationsSettings()
    deps = dependencies(settings)
    if agreement not in deps.agreements:
        raise typer.BadParameter(f"unknown agreement '{agreement}' (known: {', '.join(sorted(deps.agreements))})")
    try:
        today = date.fromisoformat(as_of) if as_of else oslo_day(SystemClock().now())
    except ValueError as error:
        raise typer.BadParameter(f"--as-of: {error}") from error
    try:
        status = asyncio.run(load(settings, deps, agreement, year, today))
    except asyncpg.UndefinedTableError as error:
        typer.echo(
            f"schema '{settings.schema_name}' has no evaluations tables yet ({error}); start the service", err=True
        )
        raise typer.Exit(2) from error
    if as_json:
        print_json(status.to_json())
    else:
        render(status, Console())


if __name__ == "__main__":
    app()
