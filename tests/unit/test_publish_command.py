"""`lhl publish --dry-run` tells an integrator exactly what is wrong with an event file, by field path."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lhl.cli import app

VALID = """\
type: no.levehelelivet.meeting.held.v1
data:
  meeting_id: vestland-2022-03
  agreement_id: leve-hele-livet-2019-2023
  kind: regional
  region: vestland
  county: "46"
  held_on: 2022-03-10
  organiser: sf-vestland
  participants: [sf-vestland, ks-vestland]
"""


def run(tmp_path: Path, text: str, name: str = "event.yaml", source: str = "/statsforvalteren/vestland/moter"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["publish", str(path), "--source", source, "--dry-run"])


def test_a_valid_event_file_is_accepted_with_the_missing_envelope_filled_in(tmp_path: Path) -> None:
    result = run(tmp_path, VALID)
    assert result.exit_code == 0, result.output
    assert "valid no.levehelelivet.meeting.held.v1 for lhl.ingress.meetings.v1" in result.output


def test_each_wrong_field_is_named_with_its_reason(tmp_path: Path) -> None:
    result = run(tmp_path, VALID.replace("2022-03-10", "2022-13-01").replace("[sf-vestland, ks-vestland]", "[]"))
    assert result.exit_code == 1
    assert "rejected (invalid_data)" in result.output
    assert 'data.held_on: expected a date written YYYY-MM-DD from 1900 to 2999, got the text "2022-13-01"' in (
        result.output
    )
    assert "data.participants: expected at least 1 entry, got an empty list" in result.output


def test_an_unknown_type_lists_what_is_accepted(tmp_path: Path) -> None:
    result = run(tmp_path, VALID.replace("meeting.held.v1", "meeting.helt.v1"))
    assert result.exit_code == 1
    assert "unknown_type" in result.output
    assert "no.levehelelivet.report.submitted.v1" in result.output


def test_a_source_that_contradicts_the_option_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "source: /ks/sekretariat\n" + VALID)
    assert result.exit_code == 1
    assert "the file says '/ks/sekretariat'" in result.output


def test_a_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    result = run(tmp_path, "{not json", name="event.json")
    assert result.exit_code != 0
    assert "is not valid JSON" in result.output


def run_json(tmp_path: Path, text: str, source: str = "/statsforvalteren/vestland/moter"):  # type: ignore[no-untyped-def]
    path = tmp_path / "event.yaml"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["publish", str(path), "--source", source, "--dry-run", "--json"])


def test_a_valid_event_is_answered_in_json_with_its_type_and_topic(tmp_path: Path) -> None:
    result = run_json(tmp_path, VALID)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "file": str(tmp_path / "event.yaml"),
        "verdict": "valid",
        "reason": None,
        "type": "no.levehelelivet.meeting.held.v1",
        "topic": "lhl.ingress.meetings.v1",
        "problems": [],
    }


def test_a_rejected_event_is_answered_in_json_with_its_reason_and_each_problem(tmp_path: Path) -> None:
    result = run_json(tmp_path, VALID.replace("2022-03-10", "2022-13-01").replace("[sf-vestland, ks-vestland]", "[]"))
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["verdict"], answer["reason"]) == ("rejected", "invalid_data")
    assert (
        'data.held_on: expected a date written YYYY-MM-DD from 1900 to 2999, got the text "2022-13-01"'
        in (answer["problems"])
    )
    assert "data.participants: expected at least 1 entry, got an empty list" in answer["problems"]


def test_a_contradicting_source_is_answered_in_json_too(tmp_path: Path) -> None:
    result = run_json(tmp_path, "source: /ks/sekretariat\n" + VALID)
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["verdict"], answer["reason"]) == ("rejected", "source_mismatch")
    assert answer["problems"] == [
        "source: the file says '/ks/sekretariat' but --source is '/statsforvalteren/vestland/moter'"
    ]


def test_json_without_a_dry_run_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "event.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = CliRunner().invoke(app, ["publish", str(path), "--source", "/ks/sekretariat", "--json"])
    assert result.exit_code == 2
    assert "--json goes with --dry-run" in result.output
