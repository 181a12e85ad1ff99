"""The compatibility checker catches every kind of breaking change and lets additive ones through."""

from __future__ import annotations

from typing import Any

from contracts.compat import breaking_changes

BASE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "region": {"type": "string", "pattern": "^[a-z-]+$"},
        "count": {"type": "integer", "minimum": 0},
        "note": {"anyOf": [{"type": "string", "maxLength": 100}, {"type": "null"}]},
        "kind": {"$ref": "#/$defs/Kind"},
    },
    "required": ["region", "count"],
    "$defs": {"Kind": {"type": "string", "enum": ["national", "regional"]}},
}


def changed(**properties: Any) -> dict[str, Any]:
    return {**BASE, "properties": {**BASE["properties"], **properties}}


def test_identical_schema_is_compatible() -> None:
    assert breaking_changes(BASE, BASE) == []


def test_new_optional_field_is_compatible() -> None:
    assert breaking_changes(BASE, changed(extra={"type": "string"})) == []


def test_widened_constraint_is_compatible() -> None:
    note = {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}]}
    assert breaking_changes(BASE, changed(note=note)) == []


def test_removed_field_is_breaking() -> None:
    new = {**BASE, "properties": {k: v for k, v in BASE["properties"].items() if k != "count"}}
    assert breaking_changes(BASE, new) == ["$.count: field removed"]


def test_new_required_field_is_breaking() -> None:
    new = {**changed(extra={"type": "string"}), "required": ["region", "count", "extra"]}
    assert breaking_changes(BASE, new) == ["$.extra: became required"]


def test_narrowed_type_is_breaking() -> None:
    assert breaking_changes(BASE, changed(count={"type": "boolean"})) == [
        "$.count: type narrowed from ['integer'] to ['boolean']"
    ]


def test_optional_field_made_non_nullable_is_breaking() -> None:
    problems = breaking_changes(BASE, changed(note={"type": "string", "maxLength": 100}))
    assert problems == ["$.note: no longer accepts ['null']"]


def test_tightened_bounds_and_patterns_are_breaking() -> None:
    assert breaking_changes(BASE, changed(count={"type": "integer", "minimum": 1})) == [
        "$.count: minimum tightened to 1"
    ]
    assert breaking_changes(BASE, changed(region={"type": "string", "pattern": "^[a-z]+$"})) == [
        "$.region: pattern changed to '^[a-z]+$'"
    ]


def test_enum_value_removed_behind_a_reference_is_breaking() -> None:
    new = {**BASE, "$defs": {"Kind": {"type": "string", "enum": ["national"]}}}
    assert breaking_changes(BASE, new) == ["$.kind: enum no longer accepts ['regional']"]
