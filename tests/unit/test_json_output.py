"""`--json` prints the same way in every command: values json cannot write get the contracts' forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
import typer
from typer.testing import CliRunner

from runtime.json_output import AsJson, dumps, print_json, print_json_lines


def test_dates_ids_paths_and_sets_take_the_forms_the_contracts_use() -> None:
    value = {
        "day": date(2023, 3, 1),
        "at": datetime(2023, 3, 1, 9, 30, tzinfo=UTC),
        "id": UUID("6f1c0b4e-3d0a-4f57-9a52-2f0d7c1e9b11"),
        "file": Path("/tmp/audit.jsonl"),
        "amount": Decimal("1.50"),
        "regions": {"vestland", "agder"},
        "name": "Tromsø",
    }
    text = dumps(value)
    assert "Tromsø" in text  # UTF-8 as is, not \\u escapes
    assert json.loads(text) == {
        "day": "2023-03-01",
        "at": "2023-03-01T09:30:00+00:00",
        "id": "6f1c0b4e-3d0a-4f57-9a52-2f0d7c1e9b11",
        "file": "/tmp/audit.jsonl",
        "amount": "1.50",
        "regions": ["agder", "vestland"],
        "name": "Tromsø",
    }


def test_a_value_with_no_json_form_is_refused_not_guessed() -> None:
    with pytest.raises(TypeError, match="object has no JSON form"):
        dumps({"thing": object()})


def test_an_answer_is_one_document_and_a_listing_one_object_per_line() -> None:
    app = typer.Typer()

    @app.command()
    def show(as_json: AsJson = False, many: bool = False) -> None:
        rows = [{"n": 1}, {"n": 2}]
        if not as_json:
            typer.echo("for people")
        elif many:
            print_json_lines(rows)
        else:
            print_json({"rows": rows})

    one = CliRunner().invoke(app, ["--json"])
    lines = CliRunner().invoke(app, ["--json", "--many"])
    people = CliRunner().invoke(app, [])
    assert json.loads(one.stdout) == {"rows": [{"n": 1}, {"n": 2}]}
    assert [json.loads(line) for line in lines.stdout.splitlines()] == [{"n": 1}, {"n": 2}]
    assert people.output == "for people\n"
