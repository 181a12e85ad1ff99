"""What an exception nobody could catch was about, written before pytest reports it.

An exception raised in a finalizer the collector runs, or in a callback with no caller, goes to
`sys.unraisablehook`. pytest's hook formats it with the `traceback` module; with the stack nearly full, that
formatting fails with RecursionError and the test fails naming nothing: a long fuzz run (`LHL_FUZZ_EXAMPLES=300`)
met it once, and eight runs after did not. This hook first writes one line, with a few frames and no `traceback`
module: the exception's type and message, the object it was raised for, its innermost frames and how deep the
stack was, then hands the event on to pytest's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

Hook = Callable[[Any], object]


def _depth(frame: FrameType | None) -> int:
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _innermost(traceback: TracebackType | None, most: int = 6) -> str:
    frames: list[str] = []
    while traceback is not None:
        code = traceback.tb_frame.f_code
        frames.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{traceback.tb_lineno} {code.co_name}")
        traceback = traceback.tb_next
    return " < ".join(reversed(frames[-most:]))


def reporting(inner: Hook) -> Hook:
    """`inner`, after a line on stderr about the event."""

    def hook(unraisable: Any) -> None:
        try:
            found = unraisable.object
            about = "nothing" if found is None else f"{object.__repr__(found)} {getattr(found, '__qualname__', '')}"
            assert sys.__stderr__ is not None
            sys.__stderr__.write(
                f"unraisable {unraisable.exc_type.__name__}: {str(unraisable.exc_value)[:300]!r} "
                f"({unraisable.err_msg or 'Exception ignored in'} {about}) at stack depth "
                f"{_depth(sys._getframe())}; innermost: {_innermost(unraisable.exc_traceback)}\n"
            )
        except Exception:  # with the stack full this line may fail too; pytest's report still comes
            pass
        inner(unraisable)

    return hook


def install() -> None:
    sys.unraisablehook = reporting(sys.unraisablehook)
