"""The committed JSON Schemas, applied: what the contract promises integrators is exactly what the services accept.

Events are validated as JSON against the schema files in `contracts/schemas` (the documents integrators code
against), strictly: a number where a date belongs is refused, not converted. Only what passes is turned into the
typed models the services work with.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from contracts import catalog, problems

SCHEMA_DIR = Path(__file__).parent / "schemas"
ENVELOPE_SCHEMA_FILE = "cloudevent.json"


@cache
def schema(file_name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(file_name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(schema(file_name), validate_formats=True)


def envelope_problems(raw: dict[str, Any]) -> list[str]:
    """What is wrong with an event's CloudEvents attributes (its data is checked against its type's schema)."""
    return _problems(ENVELOPE_SCHEMA_FILE, raw, "")


def data_problems(kind: catalog.EventType, data: Any) -> list[str]:
    """What is wrong with an event's data for its type, with paths under `data`."""
    return _problems(kind.schema_file, data, "data")


def _problems(file_name: str, instance: Any, prefix: str) -> list[str]:
    validator = _validator(file_name)
    if validator.is_valid(instance):
        return []
    return problems.messages(list(validator.iter_errors(instance)), schema(file_name), prefix)
