"""A progress display for the operator's long commands, shown only to a person watching a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

Advance = Callable[[int], None]


def _ignore(_: int) -> None:
    return None


@contextmanager
def progress(description: str, total: int | None, console: Console | None = None) -> Iterator[Advance]:
    """Yield a function to call with each step's size.

    On stderr, and only when stderr is a terminal: a pipe, a log file or a test gets the command's output exactly as
    before, with no control codes mixed in. The display is transient, so the command's own last line stays alone.
    """
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield _ignore
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as display:
        task = display.add_task(description, total=total)
        yield lambda steps: display.advance(task, steps)
