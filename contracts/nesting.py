"""How deep JSON text nests, found without parsing it: what every reader of untrusted JSON asks before it parses.

Python's JSON parser recurses once per level, so text nesting deeper than the interpreter allows raises
RecursionError, at a depth that depends on how deep the caller's stack already is. Asked first, the same question
gets the same answer everywhere: the services' admission (`runtime.json_reading`), the audit's reading of a payload,
and the reading of a record for its signature (`contracts.wire`), in a service or in its check processes.
"""

from __future__ import annotations

import re
from typing import Final

PARSE_DEPTH: Final = 400
"""Text nesting deeper than this is not parsed at all. The parser recurses once per level: left to run into the
interpreter's recursion limit (a thousand frames) it raised RecursionError, which was caught, but anything that ran
meanwhile so near the limit failed too: a finalizer the collector called there raised an exception nobody could
even print (the fuzz test met it once in CI). Far above any event's depth (`limits.MAX_DEPTH`), far below the
limit."""
_STRUCTURE: Final = re.compile(r'"(?:[^"\\]|\\.)*(?:"|$)|[\[\]{}]', re.DOTALL)
"""A JSON string (to its closing quote, or the end of an unterminated one), or a bracket outside strings."""


def nests_deeper_than(text: str, depth: int) -> bool:
    """Whether the text's brackets outside strings nest deeper than `depth`: a scan without recursion, for text that
    may be too deep to parse (what the parser would refuse anyway, unbalanced brackets, counts as nested)."""
    if text.count("[") + text.count("{") <= depth:
        return False
    level = 0
    for token in _STRUCTURE.finditer(text):
        first = text[token.start()]
        if first in "[{":
            level += 1
            if level > depth:
                return True
        elif first in "]}":
            level -= 1
    return False
