"""Reading JSON as the contract allows: within its depth and number limits, and only text PostgreSQL can store.

Everything `admit` reads (a structured event, a binary event's data) is read here first, so a value that would
crash a recursive walk or fail in a handler's INSERT is refused up front with the place it went wrong.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from contracts import limits
from contracts.nesting import PARSE_DEPTH, nests_deeper_than
from contracts.rejections import Reason, Rejected

TOO_DEEP = f"the value nests JSON deeper than {limits.MAX_DEPTH} levels, which no event of the contract does"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _NotReadable(ValueError):
    """Raised from inside the JSON reader's hooks: a number or constant the contract cannot hold."""


def _integer(literal: str) -> int:
    if len(literal) > limits.MAX_NUMBER_CHARS:
        raise _NotReadable(
            f"a number of {len(literal)} digits; no number of the contract has more than {limits.MAX_NUMBER_CHARS}"
        )
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > limits.MAX_NUMBER_CHARS:
        raise _NotReadable(
            f"a number of {len(literal)} characters; no number of the contract has more than {limits.MAX_NUMBER_CHARS}"
        )
    number = float(literal)
    if not math.isfinite(number):
        raise _NotReadable(f"the number {literal} is too large for a JSON number")
    return number


def _constant(name: str) -> Any:
    raise _NotReadable(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_constant)
"""Built once: json.loads with hooks would build a new decoder for every record."""


def read_json(value: bytes, what: str = "the value") -> Any:
    """Parse UTF-8 JSON, refusing what the contract cannot hold: numbers too long to be any of its numbers, NaN and
    Infinity, nesting deeper than any event, and text PostgreSQL cannot store (NUL, lone surrogates)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(Reason.NOT_JSON, f"{what} is not UTF-8 text: byte {error.start} is not valid UTF-8") from error
    if nests_deeper_than(text, PARSE_DEPTH):
        raise Rejected(Reason.INVALID_DATA, TOO_DEEP)
    try:
        raw = DECODER.decode(text)
    except _NotReadable as error:
        raise Rejected(Reason.INVALID_DATA, f"{what}: {error}") from error
    except json.JSONDecodeError as error:
        raise Rejected(Reason.NOT_JSON, f"{what} is not JSON: {error}") from error
    except RecursionError as error:  # not expected below PARSE_DEPTH; kept as the last guard
        raise Rejected(Reason.INVALID_DATA, TOO_DEEP) from error
    too_deep, unstorable = _scan(raw) if _needs_scan(text) else (False, None)
    if too_deep:
        raise Rejected(Reason.INVALID_DATA, TOO_DEEP)
    if unstorable is not None:
        raise Rejected(
            Reason.INVALID_DATA,
            f"{unstorable or what}: text must not contain the NUL character (U+0000) or a lone surrogate",
        )
    return raw


_SUSPECT_ESCAPE = re.compile(r"\\u(0000|[dD][89a-fA-F])")
"""The only ways valid JSON text can carry NUL or a lone surrogate: as a \\u escape (raw control characters are not
valid JSON, and UTF-8 has no surrogates)."""


def _needs_scan(text: str) -> bool:
    """Whether the parsed value must be walked: it may nest deeper than MAX_DEPTH (more brackets than that) or
    carry text PostgreSQL cannot store (a suspect escape). Most events need neither."""
    return text.count("{") + text.count("[") > limits.MAX_DEPTH or _SUSPECT_ESCAPE.search(text) is not None


def _scan(value: Any) -> tuple[bool, str | None]:
    """One pass over a parsed value, without recursion: whether it nests deeper than MAX_DEPTH, and the path of the
    first key or string (in document order) PostgreSQL cannot store.

    A value nested a thousand levels deep would exhaust Python's stack in any recursive walk and come back as a
    crash on every redelivery; NUL and lone surrogates are valid JSON that PostgreSQL stores neither as text nor as
    jsonb, so they are refused here, with their place, rather than fail in a handler's INSERT.
    """
    bad: str | None = None
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if bad is None and UNSTORABLE.search(item):
                bad = path
            continue
        entries = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else None
        if entries is None:
            continue
        if depth > limits.MAX_DEPTH:
            return True, bad
        children: list[tuple[Any, str, int]] = []
        for key, child in entries:
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                children.append((key, where, depth))  # a key is checked before its value, as a reader meets it
            children.append((child, where, depth + 1))
        stack.extend(reversed(children))
    return False, bad
