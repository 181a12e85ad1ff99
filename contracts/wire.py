"""How a record is read for its signature: the attributes as they travelled and the exact bytes of its data.

The verifiability extension signs `data` as the bytes that were sent, so a parsed and re-serialised value will not
do: in structured mode the text of the `data` member is cut out of the record as it stands; in binary mode the
value is the data. Attribute values are written as the extension's canonical serialisation prescribes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Final

from contracts.nesting import PARSE_DEPTH, nests_deeper_than

_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_SPACE: Final = frozenset(" \t\n\r")
_DECODER: Final = json.JSONDecoder()
_SCAN: Final = make_scanner(_DECODER)  # type: ignore[arg-type]  # typeshed types the decoder as a scanner
"""The C scanner `raw_decode` wraps: a JSON value's end from where it starts, or StopIteration."""
CE_PREFIX: Final = "ce_"


class Unreadable(ValueError):
    """The record cannot be read for verification; the message says why."""


@dataclass(frozen=True)
class WireView:
    """The attributes as they travelled (strings, as sent) and the data's exact bytes: what the digests cover."""

    attributes: Mapping[str, str]
    data: bytes | None


def view_of(value: bytes, headers: Iterable[tuple[str, bytes | None]] = (), key: bytes | None = None) -> WireView:
    """The record read as the CloudEvents Kafka binding reads it: structured mode (content type
    application/cloudevents*, or no `ce_` header) has the whole event in the value; binary mode has the attributes
    in `ce_` headers, the data in the value, `datacontenttype` in `content-type` and, unless a header names it,
    `partitionkey` in the record's key."""
    found = {name.lower(): raw or b"" for name, raw in headers}
    content_type = found.get("content-type", b"").decode(errors="replace")
    binary = any(name.startswith(CE_PREFIX) for name in found)
    if content_type.lower().startswith("application/cloudevents") or not binary:
        return structured_view(value)
    attributes = {n[len(CE_PREFIX) :]: v.decode(errors="replace") for n, v in found.items() if n.startswith(CE_PREFIX)}
    if content_type:
        attributes["datacontenttype"] = content_type
    if "partitionkey" not in attributes and key is not None:
        attributes["partitionkey"] = key.decode(errors="replace")
    return WireView(attributes, value)


def _canonical(name: str, value: object) -> str:
    """An attribute's value as the extension serialises it: a string as itself, a boolean as true/false, an
    integer in decimal. Any other JSON value has no CloudEvents type, so no signature can cover it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    raise Unreadable(f"attribute {name} holds {type(value).__name__}, a value no signature can cover")


def structured_view(value: bytes) -> WireView:
    """Structured mode: every attribute and the data in the value."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"it is not a UTF-8 JSON object ({error})") from error
    if nests_deeper_than(text, PARSE_DEPTH):  # the same answer at any depth of the caller's stack
        raise Unreadable(f"it nests JSON deeper than {PARSE_DEPTH} levels")
    try:
        members = _members(text)
    except ValueError as error:
        raise Unreadable(f"it is not a UTF-8 JSON object ({error})") from error
    except RecursionError as error:  # not expected below PARSE_DEPTH; kept as the last guard
        raise Unreadable("it nests JSON deeper than it can be read") from error
    attributes = {name: _canonical(name, v) for name, (v, _) in members.items() if name != "data" and v is not None}
    data = members.get("data")
    if data is None and isinstance(encoded := members.get("data_base64", (None, ""))[0], str):
        try:  # binary data travels as base64; its bytes are what is signed
            return WireView(attributes, base64.b64decode(encoded, validate=True))
        except binascii.Error as error:
            raise Unreadable(f"data_base64 is not base64 ({error})") from error
    return WireView(attributes, data[1].encode() if data is not None else None)


def _members(text: str) -> dict[str, tuple[object, str]]:
    """Each top-level member's value and its exact text; for a repeated name the last, as json.loads keeps it.

    Every record a service consumes is read here before its signature is checked, so the walk calls the C scanner
    (`scan_once`, what `raw_decode` wraps) for each name and value, and the whitespace pattern only where there is
    whitespace: compact JSON, what publishers send, then costs a few Python steps per member."""
    position = _skip(text, 0)
    if text[position : position + 1] != "{":
        raise ValueError("not a JSON object")
    members: dict[str, tuple[object, str]] = {}
    position = _skip(text, position + 1)
    if text[position : position + 1] == "}":
        return members
    scan = _SCAN
    try:
        while True:
            name, position = scan(text, position)
            if text[position : position + 1] in _SPACE:
                position = _skip(text, position)
            if not isinstance(name, str) or text[position : position + 1] != ":":
                raise ValueError(f"expected a member name and ':' at character {position}")
            start = position + 1
            if text[start : start + 1] in _SPACE:
                start = _skip(text, start)
            value, position = scan(text, start)
            members[name] = (value, text[start:position])
            separator = text[position : position + 1]
            if separator in _SPACE:
                position = _skip(text, position)
                separator = text[position : position + 1]
            if separator == "}":
                return members
            if separator != ",":
                raise ValueError(f"expected ',' or '}}' at character {position}")
            position += 1
            if text[position : position + 1] in _SPACE:
                position = _skip(text, position)
    except StopIteration as stop:  # what raw_decode says when no JSON value starts there
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None


def _skip(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position
