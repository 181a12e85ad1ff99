"""Reading everything again (the group rewound) adds nothing; checkpoints come on schedule and must be genuine."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from contracts import topics
from services.audit.settings import AuditSettings
from tests.integration.audit.helpers import (
    audit_cli,
    audit_settings,
    recorded_count,
    running_audit,
    wait_for_count,
    wait_until_caught_up,
)
from tests.integration.audit.mix import publish_standalone_mix
from tests.support.infra import Infra
from tests.support.kafka import Bus


async def rewind_group(settings: AuditSettings) -> None:
    """Commit offset 0 on every partition the audit reads, as the audit's principal."""
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=settings.group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(settings.topic(t), p) for t in topics.ALL_TOPICS for p in range(settings.topic_partitions)
        ]
        consumer.assign(partitions)
        await consumer.commit(dict.fromkeys(partitions, OffsetAndMetadata(0, "")))
    finally:
        await consumer.stop()


async def test_reading_every_topic_again_from_the_start_records_nothing_twice(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
        await wait_until_caught_up(audit)
    # Its group rewound to the start (only the audit's own principal may), it is redelivered every record.
    await rewind_group(settings)
    async with running_audit(settings) as again:
        await wait_until_caught_up(again)
        count = await recorded_count(again)
    assert count == mix.expected_records
    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout
    assert f"OK: {mix.expected_records} records verified" in verified.stdout


async def test_the_service_writes_signed_checkpoints_on_its_schedule(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoints"
    settings = audit_settings(infra, run_id, folder).model_copy(update={"audit_checkpoint_interval_seconds": 0.2})
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
        async with asyncio.timeout(30):
            while True:
                periodic = [p for p in folder.glob("*.json") if not p.name.endswith("-head.json")]
                counts = [json.loads(p.read_text())["checkpoint"]["record_count"] for p in periodic]
                if mix.expected_records in counts:
                    break
                await asyncio.sleep(0.1)
        signed_at = audit.metrics.registry.get_sample_value(
            "lhl_audit_checkpoint_timestamp_seconds", {"service": settings.service_name}
        )
    assert signed_at is not None
    assert abs(signed_at - time.time()) < 60
    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout
    assert f"the latest covering {mix.expected_records} records" in verified.stdout


async def test_the_first_periodic_checkpoint_comes_seconds_after_the_first_records_not_an_interval_later(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoints"
    settings = audit_settings(infra, run_id, folder).model_copy(
        update={"audit_checkpoint_interval_seconds": 3600, "audit_first_checkpoint_seconds": 1.0}
    )
    async with running_audit(settings) as audit:
        await asyncio.sleep(1.5)  # a first look finds the log empty: nothing to sign yet
        empty_log = [p.name for p in folder.glob("*.json")]
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
        recorded_at = time.monotonic()
        async with asyncio.timeout(10):
            while True:
                periodic = [p for p in folder.glob("*.json") if not p.name.endswith("-head.json")]
                if periodic:
                    break
                await asyncio.sleep(0.1)
        waited = time.monotonic() - recorded_at
    assert empty_log == []
    assert waited < 5
    [path] = periodic
    assert json.loads(path.read_text())["checkpoint"]["record_count"] > 0
    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout


async def test_a_checkpoint_file_altered_after_signing_fails_verification_by_name(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
    written = await audit_cli(settings, "checkpoint", "--json")
    assert written.exit_code == 0, written.stdout
    [path] = [p for p in (tmp_path / "checkpoints").glob("*.json") if not p.name.endswith("-head.json")]
    assert json.loads(written.stdout) == {"file": str(path)}
    document = json.loads(path.read_text())
    document["checkpoint"]["record_count"] = 3  # hiding that records 4 onwards ever existed
    path.write_text(json.dumps(document))
    result = await audit_cli(settings, "verify")
    assert result.exit_code == 1
    assert f"checkpoint {path.name}: its signature does not verify" in result.stdout


async def test_the_service_reports_ready_and_counts_what_it_recorded(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints").model_copy(update={"http_port": 0})
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
        await wait_until_caught_up(audit)
        assert audit.http is not None
        base = f"http://127.0.0.1:{audit.http.bound_port}"
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"{base}/health/ready")
            metrics = (await client.get(f"{base}/metrics")).text
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "broker": True}
    assert (
        f'lhl_events_total{{event_type="any",outcome="processed",service="audit"}} {mix.expected_records}.0' in metrics
    )
    assert 'lhl_events_total{event_type="any",outcome="duplicate",service="audit"} 2.0' in metrics
    assert f'lhl_audit_records{{service="audit"}} {mix.expected_records}.0' in metrics
    lag = [line for line in metrics.splitlines() if line.startswith("lhl_consumer_lag{")]
    assert lag
    assert all(line.endswith(" 0.0") for line in lag), lag
