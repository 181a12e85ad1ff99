"""Long free text in a table row: shortened at a word boundary and marked with "…", so nobody reads half a word
as the whole message. `show` commands print the text whole."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """At most `width` characters on one line; what is cut is marked. One very long word (a URL) is still cut,
    since a table cell cannot hold it."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    room = flat[: width - len(ELLIPSIS)]
    space = room.rfind(" ")
    if space >= width // 2:
        room = room[:space]
    return room.rstrip(" ,;:.-") + ELLIPSIS
