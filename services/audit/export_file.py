"""The export file: a header line, then one canonical JSON line per record, enough to verify offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from services.audit.chain import AuditRecord, canonical_json, utc_text

FORMAT: Final = "lhl-audit-export/1"


class ExportFormatError(ValueError):
    """The file is not an audit export; the message names the file and line."""


def header_line(log: str, now: datetime) -> str:
    return canonical_json({"format": FORMAT, "log": log, "exported_at": utc_text(now)}).decode() + "\n"


def record_line(record: AuditRecord) -> str:
    return canonical_json(record.to_export()).decode() + "\n"


def read_header(file: Path) -> dict[str, Any]:
    with file.open(encoding="utf-8") as lines:
        first = lines.readline()
    try:
        header: Any = json.loads(first or "{}")
    except ValueError as error:
        raise ExportFormatError(f"{file}:1: not JSON ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ExportFormatError(f"{file}:1: not an export header with format {FORMAT}")
    if not isinstance(header.get("log"), str):
        raise ExportFormatError(f"{file}:1: the export header does not name its log")
    return header


def read_records(file: Path) -> Iterator[AuditRecord]:
    with file.open(encoding="utf-8") as lines:
        next(lines, None)
        for number, line in enumerate(lines, start=2):
            try:
                yield AuditRecord.from_export(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                raise ExportFormatError(
                    f"{file}:{number}: not an audit record ({type(error).__name__}: {error})"
                ) from error
