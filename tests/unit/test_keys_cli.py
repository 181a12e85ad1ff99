"""`lhl keys`: a publisher's key is made owner-only and registered for its source, listed, and retired; `--json`
prints the same for scripts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts import keys
from lhl.keys import app

SOURCE = "/statsforvalteren/vestland/moter"


@pytest.fixture
def keys_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEYS_DIR", str(tmp_path))
    return tmp_path


def test_a_generated_key_is_owner_only_and_registered_for_its_source_until_retired(keys_dir: Path) -> None:
    made = CliRunner().invoke(app, ["generate", "--source", SOURCE])
    assert made.exit_code == 0, made.output
    [key] = keys.read(keys_dir / "registry.json")
    assert key.sources == (SOURCE,)
    assert key.valid_to is None
    assert (keys_dir / "sources" / "statsforvalteren_vestland_moter.pem").stat().st_mode & 0o777 == 0o600
    listed = CliRunner().invoke(app, ["list"])
    assert key.key_id in listed.output
    retired = CliRunner().invoke(app, ["retire", key.key_id, "--at", "2030-01-01T00:00:00+00:00"])
    assert retired.exit_code == 0, retired.output
    [ended] = keys.read(keys_dir / "registry.json")
    assert ended.describe_validity().endswith("until 2030-01-01T00:00:00Z")


def test_a_key_is_refused_for_a_source_nobody_registered_or_for_two_owners(keys_dir: Path) -> None:
    unknown = CliRunner().invoke(app, ["generate", "--source", "/nobody/system"])
    two = CliRunner().invoke(app, ["generate", "--source", SOURCE, "--source", "/ks/vestland"])
    assert unknown.exit_code == 1
    assert "not registered for any organisation" in unknown.output
    assert two.exit_code == 1
    assert "one key signs for one owner" in two.output
    assert keys.read(keys_dir / "registry.json") == []


def test_generating_again_never_overwrites_a_private_key(keys_dir: Path) -> None:
    assert CliRunner().invoke(app, ["generate", "--service", "meetings"]).exit_code == 0
    again = CliRunner().invoke(app, ["generate", "--service", "meetings"])
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_generate_and_list_print_json_a_script_can_read(keys_dir: Path) -> None:
    made = CliRunner().invoke(app, ["generate", "--source", SOURCE, "--json"])
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output

    [key] = keys.read(keys_dir / "registry.json")
    answer = json.loads(made.stdout)
    assert answer == {
        "key_id": key.key_id,
        "sources": [SOURCE],
        "public_key": key.public_key,
        "valid_from": answer["valid_from"],
        "valid_to": None,
        "private_key_file": str(keys_dir / "sources" / "statsforvalteren_vestland_moter.pem"),
        "registry": str(keys_dir / "registry.json"),
    }
    assert datetime.fromisoformat(answer["valid_from"].replace("Z", "+00:00")) == key.valid_from
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {row["registry"] for row in rows} <= {str(keys.COMMITTED), str(keys_dir / "registry.json")}
    [mine] = [row for row in rows if row["registry"] == str(keys_dir / "registry.json")]
    assert mine == {key: value for key, value in answer.items() if key != "private_key_file"}
    assert len(rows) == len(keys.read(keys.COMMITTED)) + 1


def test_a_registry_broken_by_an_edit_is_named_with_its_fault_not_a_traceback(keys_dir: Path) -> None:
    assert CliRunner().invoke(app, ["generate", "--source", SOURCE]).exit_code == 0
    registry = keys_dir / "registry.json"
    registry.write_text(registry.read_text(encoding="utf-8").replace('"valid_from"', '"valid_since"'), encoding="utf-8")

    listed = CliRunner().invoke(app, ["list"])

    assert listed.exit_code == 1
    assert listed.exception is None or isinstance(listed.exception, SystemExit)
    assert f"FAILED: {registry}: the key registry cannot be read" in listed.output
    assert "valid_from" in listed.output  # pydantic's words for what is missing
