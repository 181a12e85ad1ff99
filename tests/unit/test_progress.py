"""Long commands show progress to a person at a terminal, and nothing at all to a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from runtime.progress import progress


def test_a_pipe_gets_no_progress_at_all() -> None:
    target = io.StringIO()
    with progress("verifying", 3, Console(file=target)) as advance:
        for _ in range(3):
            advance(1)
    assert target.getvalue() == ""


def test_a_terminal_sees_how_far_the_command_has_come() -> None:
    target = io.StringIO()
    with progress("verifying", 3, Console(file=target, force_terminal=True, width=80)) as advance:
        advance(2)
    assert "verifying" in target.getvalue()
    assert "2/3" in target.getvalue()
