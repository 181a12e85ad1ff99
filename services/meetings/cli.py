"""Command line over the meetings read model: `python -m services.meetings.cli list-meetings --help`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from runtime.json_output import AsJson, print_json
from services.meetings import read_model
from services.meetings.settings import MeetingsSettings

app = typer.Typer(help="Meetings and action items of the collaboration agreements.", no_args_is_help=True)

Query = Callable[[asyncpg.Connection, read_model.Filter], Awaitable[list[dict[str, Any]]]]


class ItemStatus(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    CLOSED = "closed"


class MeetingStatusOption(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


Agreement = Annotated[str | None, typer.Option("--agreement", help="Agreement id, e.g. leve-hele-livet-2019-2023.")]
Region = Annotated[str | None, typer.Option("--region", help="County governor office id, or 'national'.")]
From = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")]
To = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")]
Schema = Annotated[str | None, typer.Option("--schema", help="Database schema; defaults to the service's.")]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


async def _fetch(query: Query, where: read_model.Filter, schema: str | None) -> list[dict[str, Any]]:
    settings = MeetingsSettings()
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": schema or settings.schema_name})
    try:
        return await query(conn, where)
    finally:
        await conn.close()


def _run(query: Query, where: read_model.Filter, schema: str | None) -> list[dict[str, Any]]:
    try:
        return asyncio.run(_fetch(query, where, schema))
    except asyncpg.UndefinedTableError as error:
        typer.echo(f"error: the schema has no meetings tables ({error}); is --schema right?", err=True)
        raise typer.Exit(2) from error
    except (OSError, asyncpg.PostgresError) as error:
        typer.echo(f"error: cannot read the meetings database: {error}", err=True)
        raise typer.Exit(2) from error


def _show(title: str, rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*("" if row[c] is None else str(_jsonable(row[c])) for c in columns))
    Console().print(table)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@app.command("list-meetings")
def list_meetings(
    agreement: Agreement = None,
    region: Region = None,
    start: From = None,
    end: To = None,
    status: Annotated[MeetingStatusOption | None, typer.Option("--status", help="Meeting status.")] = None,
    as_json: AsJson = False,
    schema: Schema = None,
) -> None:
    """Meetings by the day they were held (or are planned), oldest first.

    Example: `lhl meetings list-meetings --region vestland --from 2022-01-01 --to 2022-12-31 --status held`
    """
    where = read_model.Filter(agreement, region, _day(start), _day(end), status.value if status else None)
    rows = _run(read_model.list_meetings, where, schema)
    columns = ["day", "meeting_id", "kind", "region", "status", "title", "decisions", "action_items"]
    _show("Meetings", rows, columns, as_json)


@app.command("list-action-items")
def list_action_items(
    agreement: Agreement = None,
    region: Region = None,
    start: From = None,
    end: To = None,
    status: Annotated[
        ItemStatus | None, typer.Option("--status", help="open (not completed, overdue included), overdue or closed.")
    ] = None,
    as_json: AsJson = False,
    schema: Schema = None,
) -> None:
    """Action items by due date in the period, oldest first.

    Example: `lhl meetings list-action-items --status overdue --json`
    """
    where = read_model.Filter(agreement, region, _day(start), _day(end), status.value if status else None)
    rows = _run(read_model.list_action_items, where, schema)
    columns = ["due_on", "action_item_id", "meeting_id", "region", "owner", "status", "completed_on", "text"]
    _show("Action items", rows, columns, as_json)


if __name__ == "__main__":
    app()
