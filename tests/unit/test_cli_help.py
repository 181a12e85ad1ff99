"""`lhl --help` lists every operator task, and each command's help shows an example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lhl.cli import app

EXPECTED_TOP_LEVEL = {"stack", "run", "publish", "status", "dlq", "audit", "subscriptions", "demo"}


def commands(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(node, "commands"):
        for name, sub in node.commands.items():
            yield from commands(sub, (*path, name))
    else:
        yield path, node


ALL = dict(commands(typer.main.get_command(app)))


def test_the_top_level_help_lists_every_operator_task() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert listed >= EXPECTED_TOP_LEVEL


@pytest.mark.parametrize("path", sorted(ALL), ids=" ".join)
def test_each_command_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`lhl {' '.join(path)} --help` has no example"
    assert f"lhl {' '.join(path)}" in result.output.replace("\n", " ").replace("│", " ").replace("  ", " ")
