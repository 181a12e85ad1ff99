"""`lhl acl show --json`: the table the operator reads, as JSON lines a script reads."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lhl import access
from lhl.cli import app


def test_acl_show_prints_every_binding_of_the_policy_one_per_line() -> None:
    shown = CliRunner().invoke(app, ["acl", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    expected = sorted(access.policy().bindings)
    assert len(rows) == len(expected)
    assert rows[0] == {
        "principal": expected[0].principal,
        "permission": expected[0].permission,
        "operation": expected[0].operation,
        "resource": expected[0].resource,
        "name": expected[0].name,
        "pattern": expected[0].pattern,
    }
    assert {row["principal"] for row in rows} >= {"User:svc-meetings", "User:lhl-operator"}
