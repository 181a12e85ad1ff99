"""The one way every `lhl` command prints JSON for scripts: `--json` means the same option, the same encoding
(UTF-8 text, dates and times in ISO 8601, UUIDs and paths as strings) and the same layout everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Annotated, Any
from uuid import UUID

import typer

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text for people.")]
"""A single answer is one JSON document; a listing that may grow long is JSON lines, one object per line, so a
script can stream it (`lhl dlq list --json | jq -c 'select(.reason == "invalid_data")'`)."""


def jsonable(value: Any) -> Any:
    """What json cannot write on its own, written the way the event contracts write it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | PurePath | Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def dumps(value: Any, *, indent: int | None = 2) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=jsonable)


def print_json(value: Any) -> None:
    """One answer as one indented JSON document."""
    typer.echo(dumps(value))


def print_json_lines(rows: Iterable[Any]) -> None:
    """A listing as JSON lines: one compact object per line, nothing else on stdout."""
    for row in rows:
        typer.echo(dumps(row, indent=None))
