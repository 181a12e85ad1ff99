"""`lhl stack status` on a machine where the stack was never started says both parts are down, as a script expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lhl.cli import app


def test_a_stack_never_started_is_down_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LHL_STATE_DIR", str(tmp_path / "never-started"))
    shown = CliRunner().invoke(app, ["stack", "status", "--json"])
    assert shown.exit_code == 1, shown.output
    assert json.loads(shown.stdout) == {"kafka": {"up": False}, "postgres": {"up": False}}
    told = CliRunner().invoke(app, ["stack", "status"])
    assert (told.exit_code, told.stdout) == (1, "kafka: down\npostgres: down\n")
