"""The contract means what it says: what the committed schemas forbid is refused, in words a person understands,
and the dry run answers as the service will."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts import catalog, topics, validation
from contracts.events.evaluations import RegionalStatusReportSubmitted
from contracts.reference import ReferenceData
from contracts.rejections import Reason, Rejected
from lhl.cli import app
from lhl.services import admission
from runtime.admission import admit
from runtime.records import Incoming
from tests.support.events import vestland_meeting_held
from tests.support.kafka import cloud_event
from tests.unit.evaluations.builders import report

MEETINGS = {k.name: k for k in catalog.on_topic(topics.MEETINGS_INGRESS)}
REPORTS = {k.name: k for k in catalog.on_topic(topics.REPORTS_INGRESS)}


def record(raw: dict[str, Any], *, key: bytes | None = None) -> Incoming:
    key = key if key is not None else raw["partitionkey"].encode()
    headers = (("content-type", b"application/cloudevents+json"),)
    return Incoming("t", 0, 0, key, json.dumps(raw).encode(), headers)


def rejection(raw: dict[str, Any], types: dict[str, catalog.EventType]) -> Rejected:
    with pytest.raises(Rejected) as caught:
        admit(record(raw), types)
    return caught.value


def held() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        cloud_event(
            vestland_meeting_held("m-1"), source="/statsforvalteren/vestland/moter", region="vestland"
        ).to_bytes()
    )
    return raw


def submitted() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        cloud_event(report(), source="/statsforvalteren/vestland/rapportering", region="vestland").to_bytes()
    )
    return raw


def test_a_date_sent_as_a_number_is_refused_not_converted() -> None:
    raw = held()
    raw["data"]["held_on"] = 1646092800
    rejected = rejection(raw, MEETINGS)
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message == (
        "data.held_on: expected a date written YYYY-MM-DD from 1900 to 2999, got the number 1646092800"
    )


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("decided", True, "got the value true"),
        ("municipalities_reached", "20", 'got the text "20"'),
        ("planning", 10**30, "got the number 1000000000000000000000000000000"),
        ("implementing", 2.5, "got the number 2.5"),
    ],
)
def test_a_count_must_be_a_whole_json_number_within_its_maximum(field: str, value: Any, said: str) -> None:
    raw = submitted()
    raw["data"]["focus_areas"][0][field] = value
    rejected = rejection(raw, REPORTS)
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message == (f"data.focus_areas.0.{field}: expected a whole number from 0 to 1000000, {said}")


def test_time_sent_as_a_json_number_is_refused() -> None:
    raw = held() | {"time": 1646092800}
    rejected = rejection(raw, MEETINGS)
    assert rejected.reason is Reason.INVALID_DATA
    assert rejected.message.startswith("time: expected a date and time in RFC 3339 with an offset")
    assert rejected.message.endswith("got the number 1646092800")


def test_a_missing_list_entry_and_a_missing_field_are_said_plainly() -> None:
    raw = held()
    raw["data"]["participants"] = []
    del raw["data"]["organiser"]
    message = rejection(raw, MEETINGS).message
    assert "data.participants: expected at least 1 entry, got an empty list" in message
    assert "data.organiser: missing; this field is required" in message


def test_a_report_counting_more_decided_than_reached_is_refused_by_the_owning_services_check() -> None:
    raw = submitted()
    raw["data"]["focus_areas"][0] |= {"municipalities_reached": 5, "decided": 6, "planning": 1, "implementing": 1}

    with pytest.raises(Rejected) as caught:
        admit(record(raw), REPORTS, admission(ReferenceData.load()))
    assert caught.value.reason is Reason.INVALID_DATA
    assert caught.value.message == (
        "data.focus_areas.0.decided: 6 municipalities cannot be more than the 5 reached (municipalities_reached)"
    )
    assert isinstance(RegionalStatusReportSubmitted.model_validate(raw["data"]), RegionalStatusReportSubmitted)


def _walk(schema: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        found.append((path, schema))
        for key, child in schema.items():
            found.extend(_walk(child, f"{path}.{key}"))
    elif isinstance(schema, list):
        for i, child in enumerate(schema):
            found.extend(_walk(child, f"{path}[{i}]"))
    return found


@pytest.mark.parametrize(
    "file_name", [validation.ENVELOPE_SCHEMA_FILE, *(k.schema_file for k in catalog.CONTRACT_TYPES)]
)
def test_every_string_number_and_list_of_a_committed_schema_is_bounded(file_name: str) -> None:
    unbounded = []
    for path, node in _walk(validation.schema(file_name)):
        kind = node.get("type")
        bounded_by_value = "enum" in node or "const" in node
        if kind == "string" and "maxLength" not in node and not bounded_by_value:
            unbounded.append(f"{path}: string without maxLength")
        if kind in ("integer", "number") and ("maximum" not in node or not {"minimum", "exclusiveMinimum"} & set(node)):
            unbounded.append(f"{path}: number without minimum and maximum")
        if kind == "array" and "maxItems" not in node:
            unbounded.append(f"{path}: list without maxItems")
        open_object = kind == "object" and node.get("additionalProperties") not in (False, None)
        # The envelope's data is bounded by its type's schema.
        if open_object and "maxProperties" not in node and path != "$.properties.data":
            unbounded.append(f"{path}: open object without maxProperties")
    assert unbounded == []


VALID = """\
type: no.levehelelivet.meeting.held.v1
data:
  meeting_id: vestland-2022-03
  agreement_id: leve-hele-livet-2019-2023
  kind: regional
  region: vestland
  county: "{county}"
  held_on: 2022-03-10
  organiser: sf-vestland
  participants: [sf-vestland, ks-vestland]
"""


def dry_run(tmp_path: Path, *, county: str = "46", source: str = "/statsforvalteren/vestland/moter") -> Any:
    path = tmp_path / "event.yaml"
    path.write_text(VALID.format(county=county), encoding="utf-8")
    return CliRunner().invoke(app, ["publish", str(path), "--source", source, "--dry-run"])


def test_the_dry_run_refuses_a_county_outside_its_period_as_the_service_does(tmp_path: Path) -> None:
    result = dry_run(tmp_path, county="14")  # Sogn og Fjordane, merged into Vestland from 2020
    assert result.exit_code == 1, result.output
    assert "rejected (invalid_reference)" in result.output
    assert "data.county" in result.output


def test_the_dry_run_refuses_a_source_registered_for_another_organisation(tmp_path: Path) -> None:
    result = dry_run(tmp_path, source="/ks/sekretariat")
    assert result.exit_code == 1, result.output
    assert "rejected (unauthorised_source)" in result.output
    assert "source: '/ks/sekretariat' is registered for 'ks', not for 'sf-vestland'" in result.output


def test_the_dry_run_accepts_what_the_service_accepts(tmp_path: Path) -> None:
    result = dry_run(tmp_path)
    assert result.exit_code == 0, result.output
