"""Naming a record that was not admitted: what it claims to be, when that claim is usable, else where it lies."""

from __future__ import annotations

from typing import Any, TypeGuard

from contracts import limits
from contracts.nesting import PARSE_DEPTH, nests_deeper_than
from runtime.admission import CE_PREFIX
from runtime.json_reading import DECODER, UNSTORABLE
from runtime.records import Incoming


def identity_of(record: Incoming) -> tuple[str, str, str | None]:
    """Best effort: the source, id and type of an event that could not be admitted, else its Kafka coordinates.

    Read leniently (the event may have been refused for something elsewhere in it), but only what the envelope
    would accept is used: the identity goes into the inbox's unique key, whose size PostgreSQL limits in bytes
    (see contracts.limits), and into the dead letter's headers.
    """
    raw = _attributes_leniently(record)
    source, event_id, event_type = raw.get("source"), raw.get("id"), raw.get("type")
    if _usable(source, limits.MAX_SOURCE_CHARS) and _usable(event_id, limits.MAX_ID_CHARS):
        return source, event_id, event_type if _usable(event_type, limits.MAX_TYPE_CHARS) else None
    return *record.coordinates, None


def _attributes_leniently(record: Incoming) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in record.headers:
        if name.lower().startswith(CE_PREFIX) and value is not None:
            attributes.setdefault(name[len(CE_PREFIX) :].lower(), value.decode("utf-8", "replace"))
    if attributes:
        return attributes
    try:
        text = (record.value or b"").decode("utf-8")
        parsed = None if nests_deeper_than(text, PARSE_DEPTH) else DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError covers JSON errors and our limits
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _usable(value: object, limit: int) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= limit and not UNSTORABLE.search(value)
