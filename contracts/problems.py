"""What is wrong with an event, said as a sentence a person understands: where, what is expected, what came.

Every message a publisher reads about the shape of an event is made here, one function per kind of error, so that
the services, `lhl publish --dry-run` and the dead letters all say the same thing the same way, e.g.
`data.held_on: expected a date written YYYY-MM-DD, got the number 1646092800`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema_rs

Schema = Mapping[str, Any]

_PREVIEW_CHARS = 60
_FORMATS = {
    "date": "a date written YYYY-MM-DD{years}",
    "date-time": "a date and time in RFC 3339 with an offset{years}, e.g. 2022-03-01T10:00:00+01:00",
}
_YEARS = "^(19[0-9]{2}|2[0-9]{3})-"


def value(instance: Any) -> str:
    """A short description of a JSON value: its type and, for scalars, the value itself."""
    if instance is None:
        return "null"
    if isinstance(instance, bool):
        return f"the value {'true' if instance else 'false'}"
    if isinstance(instance, int | float):
        return f"the number {_preview(json.dumps(instance))}"
    if isinstance(instance, str):
        return "an empty text" if instance == "" else f"the text {_preview(json.dumps(instance, ensure_ascii=False))}"
    if isinstance(instance, list):
        return "an empty list" if not instance else f"a list of {len(instance)} {_entries(len(instance))}"
    return "an object"


def expected(schema: Schema) -> str:
    """What a schema accepts, in words."""
    for variants in (schema.get("anyOf"), schema.get("oneOf")):
        if isinstance(variants, list):
            words = [expected(v) for v in variants if v.get("type") != "null"]
            nullable = any(v.get("type") == "null" for v in variants)
            return " or ".join(words + (["null"] if nullable else []))
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(o, ensure_ascii=False) for o in schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return _text(schema)
    if kind == "integer":
        return _range("a whole number", schema)
    if kind == "number":
        return _range("a number", schema)
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        return "a list"
    if kind == "object":
        return "an object"
    return "a value"


def message(error: jsonschema_rs.ValidationError, root: Schema, prefix: str) -> str:
    """One sentence for one schema error, naming the field by its path below `prefix` (e.g. `data`)."""
    where = path(prefix, error.instance_path)
    keyword = error.kind.name
    details = error.kind.as_dict()
    schema = subschema(root, error.schema_path[:-1])
    instance: Any = error.instance
    got = value(instance)
    if keyword == "required":
        return f"{path(where, [details['property']])}: missing; this field is required"
    if keyword == "additionalProperties":
        known = ", ".join(sorted(schema.get("properties", {})))
        return "; ".join(
            f"{path(where, [name])}: unknown field; the fields here are {known}" for name in details["unexpected"]
        )
    if keyword == "maxLength":
        return f"{where}: expected at most {details['limit']} characters, got {len(instance)}"
    if keyword == "minLength":
        return f"{where}: expected at least {details['limit']} {_characters(details['limit'])}, got {got}"
    if keyword == "maxItems":
        return f"{where}: expected at most {details['limit']} entries, got {len(instance)}"
    if keyword == "minItems":
        return f"{where}: expected at least {details['limit']} {_entries(details['limit'])}, got {got}"
    if keyword == "maxProperties":
        return f"{where}: expected at most {details['limit']} fields, got {len(instance)}"
    if keyword == "propertyNames":
        return f"{where}: a field name must be lower-case letters and digits, at most 40, got {got}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{where}: expected {expected(schema)}, got {got}"
    return f"{where}: expected {expected(schema)}, got {got}"


def messages(errors: Sequence[jsonschema_rs.ValidationError], root: Schema, prefix: str) -> list[str]:
    """One message per field, the most telling error first (a wrong type says more than a wrong length)."""
    best: dict[str, tuple[int, str]] = {}
    for error in errors:
        where = path(prefix, error.instance_path)
        if error.kind.name == "required":
            where = path(where, [error.kind.as_dict()["property"]])
        rank = _RANK.get(error.kind.name, 2)
        if where not in best or rank < best[where][0]:
            best[where] = (rank, message(error, root, prefix))
    return [text for _, text in best.values()]


_RANK = {"type": 0, "anyOf": 0, "oneOf": 0, "enum": 0, "const": 0, "format": 0, "pattern": 1}


def path(prefix: str, parts: Sequence[str | int]) -> str:
    return ".".join([prefix, *(str(p) for p in parts)] if prefix else [str(p) for p in parts]) or "the event"


def subschema(root: Schema, schema_path: Sequence[str | int]) -> Schema:
    """The part of `root` at a validator's schema path (its $defs already resolved by the validator)."""
    node: Any = root
    for step in schema_path:
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            continue
        if not isinstance(node, Mapping) or step not in node:
            return {}
        node = node[step]
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        return subschema(root, ["$defs", node["$ref"].removeprefix("#/$defs/")])
    return node if isinstance(node, Mapping) else {}


def _text(schema: Schema) -> str:
    form = schema.get("format")
    if form in _FORMATS:
        years = " from 1900 to 2999" if schema.get("pattern") == _YEARS else ""
        return _FORMATS[form].format(years=years)
    words = "a text"
    if "pattern" in schema:
        words += f" matching {schema['pattern']}"
    bounds = (schema.get("minLength"), schema.get("maxLength"))
    if bounds[1] is not None and "pattern" not in schema:
        words += (
            f" of {bounds[0] or 0} to {bounds[1]} characters" if bounds[0] else f" of at most {bounds[1]} characters"
        )
    return words


def _range(words: str, schema: Schema) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None and "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + 1 if schema.get("type") == "integer" else schema["exclusiveMinimum"]
    if low is not None and high is not None:
        return f"{words} from {low} to {high}"
    if low is not None:
        return f"{words} of at least {low}"
    if high is not None:
        return f"{words} of at most {high}"
    return words


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


def _characters(count: int) -> str:
    return "character" if count == 1 else "characters"
