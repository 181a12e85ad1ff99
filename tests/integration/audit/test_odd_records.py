"""Records no service would accept still end up in the log, once, and the chain over them verifies after storage."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaProducer

from contracts import topics
from tests.integration.audit.helpers import audit_cli, audit_settings, jsonl, running_audit, wait_for_count
from tests.integration.audit.mix import REPORTS_SOURCE, report
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.signing import keys_for_tests


async def publish_with_raw_header(bus: Bus, topic: str, value: bytes, header: tuple[str, bytes]) -> None:
    """A header value that is not UTF-8, which the test bus (and FastStream's own parser) would not pass."""
    producer = AIOKafkaProducer(**bus.kafka.options())
    await producer.start()
    try:
        await producer.send_and_wait(bus.topic(topic), value, headers=[header])
    finally:
        await producer.stop()


async def test_odd_records_are_recorded_and_the_chain_over_them_verifies_live_and_exported(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    odd = cloud_event(report(), source=REPORTS_SOURCE, region="vestland")
    # NUL and a lone surrogate, which PostgreSQL's text and jsonb refuse, inside an otherwise valid CloudEvent.
    with_nul = keys_for_tests().sign_bytes(odd.to_bytes().replace(b"Alle kommunene", b"Alle\\u0000kommunene\\ud800"))
    far_east = cloud_event(
        report(), source=REPORTS_SOURCE, time=datetime(2022, 5, 15, 1, 30, tzinfo=timezone(timedelta(hours=14)))
    )
    async with running_audit(settings) as audit:
        await bus.publish_raw(topics.REPORTS_INGRESS, with_nul, key=odd.partitionkey)
        await bus.publish_event(topics.REPORTS_INGRESS, far_east)
        await bus.publish_raw(topics.REPORTS_INGRESS, b'{"specversion": "1.0", "x": 1e400}')
        await bus.publish_raw(topics.REPORTS_INGRESS, b"")
        await publish_with_raw_header(bus, topics.AGREEMENT_INGRESS, b"[1, 2, 3]", ("x-sender", b"\xff"))
        # Headers longer than an index row holds, written straight to the dead-letter topic.
        huge = secrets.token_hex(5_000)  # random, so PostgreSQL cannot compress it under the limit
        await bus.publish_raw(topics.DEAD_LETTER, b"{}", headers={"dlq-event-id": huge, "correlationid": huge})
        # A CloudEvent whose data's agreement is as long (the envelope bounds its own attributes).
        raw = json.loads(cloud_event(report(), source=REPORTS_SOURCE).to_bytes())
        raw["data"]["agreement_id"] = huge
        await bus.publish_raw(topics.REPORTS_INGRESS, keys_for_tests().sign_bytes(json.dumps(raw).encode()))
        await wait_for_count(audit, 7)

    trail = jsonl(await audit_cli(settings, "trail", "--output", "jsonl"))
    stored = {r["event_id"]: r for r in trail if r["kind"] == "event"}
    assert stored[odd.id]["data"]["summary"] == "Alle\ufffdkommunene\ufffd er nådd."
    assert stored[far_east.id]["event_time"] == "2022-05-14T11:30:00.000000Z"
    assert sorted(r["kind"] for r in trail) == [
        "dead_letter",
        "event",
        "event",
        "event",
        "not_cloudevent",
        "not_cloudevent",
        "not_cloudevent",
    ]

    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout
    exported = tmp_path / "audit.jsonl"
    export = await audit_cli(settings, "export", "--out", str(exported), "--json")
    assert export.exit_code == 0, export.stdout
    assert json.loads(export.stdout) == {"records": 7, "file": str(exported)}
    offline = await audit_cli(settings, "verify", "--file", str(exported), "--log", settings.schema_name)
    assert offline.exit_code == 0, offline.stdout
    assert "OK: 7 records verified" in offline.stdout
    headers = [json.loads(line)["headers"] for line in exported.read_text(encoding="utf-8").splitlines()[1:]]
    assert [["x-sender", "\ufffd"]] in headers
