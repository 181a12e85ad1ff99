"""`lhl publish` puts a valid event on its topic, keyed by its partition key and signed with the publisher's key,
and prints the id it was given."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts import topics
from contracts.keys import KeyRegistry
from contracts.signing import verify
from contracts.wire import structured_view
from deploy import stack
from lhl.cli import app
from runtime import keystore
from runtime.kafka_admin import ensure_topics
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.signing import keys_for_tests

EVENT = """\
{"type": "no.levehelelivet.report.submitted.v1",
 "data": {"report_id": "agder-2022-05-15", "agreement_id": "leve-hele-livet-2019-2023", "region": "agder",
          "reporting_date": "2022-05-15", "submitted_by": "sf-agder", "summary": "Arbeidet går som planlagt.",
          "focus_areas": [{"focus_area": "helsehjelp", "municipalities_reached": 20, "planning": 15,
                           "decided": 10, "implementing": 5}]}}
"""


async def test_a_published_file_arrives_on_its_topic_with_the_printed_id(
    infra: Infra, bus: Bus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", bus.prefix)
    path = tmp_path / "report.json"
    path.write_text(EVENT, encoding="utf-8")
    # The command runs its own event loop, as it does from a shell; the test's loop waits in a thread for it.
    source = "/statsforvalteren/agder/rapportering"
    key = keystore.key_file(keys_for_tests().directory, source)
    arguments = ["publish", str(path), "--source", source, "--key", str(key)]
    result = await asyncio.to_thread(CliRunner().invoke, app, arguments)
    assert result.exit_code == 0, result.output
    printed_id = result.stdout.strip()
    records = await bus.read(topics.REPORTS_INGRESS, lambda rs: len(rs) >= 1)
    [record] = records
    event = json.loads(record.value)
    assert event["id"] == printed_id
    assert event["source"] == "/statsforvalteren/agder/rapportering"
    assert event["dataschema"] == "urn:levehelelivet:schema:report.submitted:v1"
    assert record.key == b"leve-hele-livet-2019-2023/agder"
    registry = KeyRegistry.load([keys_for_tests().registry])
    verified = verify(structured_view(record.value), registry, datetime.now(UTC))
    assert verified.key.key_id == keys_for_tests().signer(source).key_id


async def test_a_publishing_system_publishes_as_itself_and_is_refused_a_topic_it_may_not_write(
    infra: Infra, bus: Bus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", bus.prefix)
    # A publisher may not create topics; the operator (or the services) have made them.
    await ensure_topics(infra.kafka, [bus.topic(topics.REPORTS_INGRESS)], 3)
    path = tmp_path / "report.json"
    path.write_text(EVENT, encoding="utf-8")
    source = "/statsforvalteren/agder/rapportering"
    key = keystore.key_file(keys_for_tests().directory, source)
    arguments = ["publish", str(path), "--source", source, "--key", str(key)]
    for user, allowed in (("org-sf-agder", True), ("org-usht-agder", False)):
        monkeypatch.setenv("KAFKA_USERNAME", user)
        monkeypatch.setenv("KAFKA_PASSWORD", stack.broker_password(user))
        result = await asyncio.to_thread(CliRunner().invoke, app, arguments)
        if allowed:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1
            assert f"the broker refused: org-usht-agder may not write {bus.prefix}{topics.REPORTS_INGRESS}" in (
                result.output
            )
    records = await bus.read(topics.REPORTS_INGRESS, lambda rs: len(rs) >= 1)
    assert len(records) == 1
