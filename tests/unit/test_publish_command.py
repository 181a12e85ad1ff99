"""`lhl publish --dry-run` tells an integrator exactly what is wrong with an event file, by field path."""

from __future__ import annotations

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
