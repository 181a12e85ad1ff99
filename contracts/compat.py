"""Backward-compatibility check between a committed JSON Schema and the one the code now produces.

A consumer coded against the old schema must keep working: no field may disappear, no type may narrow, no
constraint may tighten, and no new field may become required. Additions of optional fields are fine.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

# Keywords whose change makes fewer documents valid when tightened.
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
_EXACT = ("pattern", "format", "const")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every way `new` rejects data that `old` accepted, as 'path: what changed' lines; empty when compatible."""
    return _compare(old, new, old.get("$defs", {}), new.get("$defs", {}), "$", set())


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved = defs[ref.removeprefix("#/$defs/")]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**resolved, **rest}
    return schema


def _variants(schema: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return list(schema[key])
    return [schema]


def _types(schema: Schema) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return {"any"}
    types = set(kind) if isinstance(kind, list) else {kind}
    if "number" in types:
        types.add("integer")
    return types


def _compare(
    old: Schema,
    new: Schema,
    old_defs: dict[str, Schema],
    new_defs: dict[str, Schema],
    path: str,
    seen: set[tuple[str, str]],
) -> list[str]:
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    key = (path, repr(sorted(old)))
    if key in seen:
        return []
    seen = seen | {key}
    old_variants, new_variants = _variants(old), _variants(new)
    if len(old_variants) > 1 or len(new_variants) > 1:
        problems: list[str] = []
        for variant in old_variants:
            old_kinds = _types(_resolve(variant, old_defs))
            candidates = [
                _compare(variant, n, old_defs, new_defs, path, seen)
                for n in new_variants
                if old_kinds & _types(_resolve(n, new_defs)) or "any" in _types(_resolve(n, new_defs))
            ]
            if not candidates:
                problems.append(f"{path}: no longer accepts {sorted(_types(_resolve(variant, old_defs)))}")
            elif all(candidates):
                fewest = min(len(found) for found in candidates)
                problems.extend(next(found for found in candidates if len(found) == fewest))
        return problems
    problems = []
    old_types, new_types = _types(old), _types(new)
    if "any" not in new_types and not old_types <= new_types:
        problems.append(f"{path}: type narrowed from {sorted(old_types)} to {sorted(new_types)}")
    if "enum" in new:
        lost = [v for v in old.get("enum", []) if v not in new["enum"]] if "enum" in old else ["(any value)"]
        if lost:
            problems.append(f"{path}: enum no longer accepts {lost}")
    for keyword in _LOWER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            problems.append(f"{path}: {keyword} tightened to {new[keyword]}")
    for keyword in _UPPER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            problems.append(f"{path}: {keyword} tightened to {new[keyword]}")
    for keyword in _EXACT:
        if keyword in new and new.get(keyword) != old.get(keyword):
            problems.append(f"{path}: {keyword} changed to {new[keyword]!r}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed")
            continue
        problems.extend(_compare(old_prop, new_props[name], old_defs, new_defs, f"{path}.{name}", seen))
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}.{name}: became required")
    if old.get("additionalProperties") is not False and new.get("additionalProperties") is False and new_props:
        problems.append(f"{path}: no longer accepts additional properties")
    if "items" in old and "items" in new:
        problems.extend(_compare(old["items"], new["items"], old_defs, new_defs, f"{path}[]", seen))
    if "prefixItems" in old and "prefixItems" in new:
        for i, (o, n) in enumerate(zip(old["prefixItems"], new["prefixItems"], strict=False)):
            problems.extend(_compare(o, n, old_defs, new_defs, f"{path}[{i}]", seen))
    return problems
