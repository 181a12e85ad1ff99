"""How the trail is shown: a rich table for people, one JSON object per line for machines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from services.audit.chain import AuditRecord, utc_text


def as_utc(moment: datetime | None) -> datetime | None:
    """A time given without an offset on the command line is read as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_json(record: AuditRecord) -> dict[str, Any]:
    """What the trail shows a machine: the hashed columns without the raw bytes, plus the parsed event."""
    shown = {k: v for k, v in record.content().items() if k not in ("headers", "payload", "prev_hash")}
    return {**shown, "envelope": record.entry.envelope, "data": record.entry.data, "hash": record.hash}


def _short_type(event_type: str | None) -> str:
    if event_type is None:
        return "-"
    return event_type.removeprefix("no.levehelelivet.")


def print_table(records: list[AuditRecord], console: Console | None = None) -> None:
    table = Table(title=f"Audit trail: {len(records)} record(s)")
    for column in ("seq", "recorded (UTC)", "kind", "event time (UTC)", "type", "source", "id", "region", "reason"):
        table.add_column(column, overflow="fold")
    for record in records:
        e = record.entry
        table.add_row(
            str(record.seq),
            (utc_text(record.recorded_at) or "")[:19],
            e.kind,
            (utc_text(e.event_time) or "-")[:19],
            _short_type(e.event_type),
            e.event_source,
            e.event_id,
            e.region or "-",
            f"{e.reason}: {e.reason_message}" if e.reason else "",
        )
    (console or Console()).print(table)
