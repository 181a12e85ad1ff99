"""Flattens a model's JSON Schema into one row per field, nested models included, for the contracts page."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]

_CONSTRAINTS = (
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minItems", "≥ {} items"),
    ("maxItems", "≤ {} items"),
    ("pattern", "matches {}"),
)


@dataclass(frozen=True)
class FieldRow:
    """One field of an event's data, with a dotted path such as `decisions[].text`."""

    path: str
    type: str
    required: bool
    nullable: bool
    default: str | None
    constraints: tuple[str, ...]
    description: str
    depth: int


@dataclass(frozen=True)
class _Shape:
    type: str
    nullable: bool
    constraints: tuple[str, ...]
    description: str
    nested: tuple[str, Schema] | None
    """Path suffix and object schema of a nested model, whose fields get rows of their own."""


def field_rows(schema: Schema) -> list[FieldRow]:
    """Every field of the schema's object, depth first, with `$ref`s into `$defs` resolved."""
    return list(_object_rows(schema, schema.get("$defs", {}), prefix="", depth=0, seen=frozenset()))


def _object_rows(obj: Schema, defs: Schema, *, prefix: str, depth: int, seen: frozenset[str]) -> Iterator[FieldRow]:
    required = set(obj.get("required", ()))
    for name, prop in obj.get("properties", {}).items():
        shape = _shape(prop, defs)
        default = json.dumps(prop["default"], ensure_ascii=False) if "default" in prop else None
        path = f"{prefix}{name}"
        yield FieldRow(
            path=path,
            type=shape.type,
            required=name in required,
            nullable=shape.nullable,
            default=default,
            constraints=shape.constraints,
            description=str(prop.get("description") or shape.description),
            depth=depth,
        )
        if shape.nested is None:
            continue
        suffix, nested = shape.nested
        title = str(nested.get("title", ""))
        # A model that contains itself would recurse for ever; its fields are listed at its first occurrence.
        if title in seen:
            continue
        yield from _object_rows(nested, defs, prefix=f"{path}{suffix}.", depth=depth + 1, seen=seen | {title})


def _resolve(prop: Schema, defs: Schema) -> Schema:
    ref = prop.get("$ref")
    if not isinstance(ref, str):
        return prop
    target = defs[ref.rsplit("/", 1)[-1]]
    # The referring property's own keys (its description) win over the referenced definition's.
    return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}


def _shape(prop: Schema, defs: Schema) -> _Shape:
    prop = _resolve(prop, defs)
    variants = prop.get("anyOf")
    if isinstance(variants, list):
        non_null = [v for v in variants if v.get("type") != "null"]
        nullable = len(non_null) < len(variants)
        if len(non_null) == 1:
            inner = _shape({**non_null[0], "description": prop.get("description", "")}, defs)
            return _Shape(inner.type, nullable, inner.constraints, inner.description, inner.nested)
        types = " or ".join(_shape(v, defs).type for v in non_null)
        return _Shape(types, nullable, (), str(prop.get("description", "")), None)
    description = str(prop.get("description", ""))
    constraints = _constraints(prop)
    kind = prop.get("type")
    if kind == "array":
        items = _shape(prop.get("items", {}), defs)
        nested = ("[]", items.nested[1]) if items.nested else None
        return _Shape(f"array of {items.type}", False, constraints + items.constraints, description, nested)
    if kind == "object" and "properties" in prop:
        return _Shape(f"object ({prop.get('title', 'object')})", False, constraints, description, ("", prop))
    if kind == "object":
        patterns: Schema = prop.get("patternProperties", {})
        values: Any = prop.get("additionalProperties") or next(iter(patterns.values()), {})
        keys = next(iter(patterns), None)
        value_type = _shape(values, defs).type if isinstance(values, Mapping) and values else "any"
        key_note = (f"keys match {keys}",) if keys else ()
        return _Shape(f"map of string to {value_type}", False, constraints + key_note, description, None)
    fmt = prop.get("format")
    type_name = f"{kind or 'any'} ({fmt})" if fmt else str(kind or "any")
    return _Shape(type_name, False, constraints, description, None)


def _constraints(prop: Schema) -> tuple[str, ...]:
    found = [template.format(prop[key]) for key, template in _CONSTRAINTS if key in prop]
    if "enum" in prop:
        found.append("one of: " + ", ".join(str(v) for v in prop["enum"]))
    if "const" in prop:
        found.append(f"always {prop['const']}")
    return tuple(found)
