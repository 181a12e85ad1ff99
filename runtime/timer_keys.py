"""Timer keys as ranges: the keys that start with a prefix are one range in code point order.

PostgreSQL's "C" collation compares UTF-8 bytes, which order as the code points do, so the keys starting with a
prefix are those from the prefix up to, not including, its successor here: a range an index serves in a prepared
statement's generic plan, which cannot turn `starts_with` of a parameter into one.
"""

from __future__ import annotations

_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)
"""Not text: a successor skips them."""


def prefix_successor(prefix: str) -> str | None:
    """The first text after every text that starts with `prefix`; None when every text may follow it (the empty
    prefix, or one of nothing but the last code point)."""
    for end in range(len(prefix) - 1, -1, -1):
        point = ord(prefix[end]) + 1
        if point in _SURROGATES:
            point = _SURROGATES.stop
        if point <= _LAST_CODE_POINT:
            return prefix[:end] + chr(point)
    return None
