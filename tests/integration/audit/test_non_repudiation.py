"""The trail proves who said what: a re-hashed edit is caught by the publisher's signature, the operator (not the
export) names the log, and records that no checkpoint covers yet are counted."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import asyncpg

from services.audit import repository
from services.audit.chain import AuditRecord, Entry, link
from services.audit.connections import init_connection
from services.audit.export_file import FORMAT
from services.audit.settings import AuditSettings
from tests.integration.audit.helpers import as_owner, audit_cli, audit_settings, running_audit, wait_for_count
from tests.integration.audit.mix import Mix, publish_standalone_mix
from tests.support.infra import Infra
from tests.support.kafka import Bus


async def record(settings: AuditSettings, bus: Bus) -> Mix:
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
    return mix


async def rewrite_from(conn: asyncpg.Connection, seq: int, edit: Entry) -> None:
    """What the log's owner who knows the encoding does (no superuser logs in): replace record `seq` and re-hash
    every record after it, with the append-only triggers disabled for the transaction."""
    await init_connection(conn)
    async with conn.transaction():
        records = [r async for r in repository.all_records(conn)]
    before, rest = records[: seq - 1], records[seq - 1 :]
    entries = [edit, *(r.entry for r in rest[1:])]
    head_seq, head_hash = (before[-1].seq, before[-1].hash) if before else (0, "0" * 64)
    relinked = link(entries, head_seq, head_hash, rest[0].recorded_at)
    async with conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_log WHERE seq >= $1", seq)
        await repository.append(conn, relinked)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def test_an_event_whose_data_was_edited_fails_verify_even_when_the_chain_was_rehashed(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    # No checkpoints at all: only the publishers' signatures stand between the forger and the trail.
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints").model_copy(update={"audit_signing_key": None})
    mix = await record(settings, bus)
    assert (await audit_cli(settings, "verify")).exit_code == 0
    async with as_owner(settings) as conn:
        await init_connection(conn)
        async with conn.transaction():
            [target] = [r async for r in repository.all_records(conn) if r.entry.event_id == mix.report.id]
        payload = target.entry.payload.replace(b"Alle kommunene", b"Ingen kommuner")
        assert payload != target.entry.payload
        envelope = json.loads(payload)
        edited = replace(target.entry, payload=payload, envelope=envelope, data=envelope["data"])
        await rewrite_from(conn, target.seq, edited)
    result = await audit_cli(settings, "verify")
    assert result.exit_code == 1, result.stdout
    assert (
        f"record {target.seq} (event {mix.report.source} {mix.report.id}) was recorded as signed by key"
        in result.stdout
    )
    assert "changed after signing" in result.stdout


async def test_an_export_rewritten_under_another_logs_name_is_refused(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    await record(settings, bus)
    exported = tmp_path / "audit.jsonl"
    assert (await audit_cli(settings, "export", "--out", str(exported))).exit_code == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    records = [AuditRecord.from_export(json.loads(line)) for line in lines[1:]]
    # Drop the dead letter (the rejection) and re-hash the rest, under a log that has no checkpoints.
    kept = [r.entry for r in records if r.entry.kind != "dead_letter"]
    rewritten = [json.dumps(r.to_export()) for r in link(kept, 0, "0" * 64, records[0].recorded_at)]
    header = json.dumps({"format": FORMAT, "log": "audit_copy", "exported_at": "2026-12-01T00:00:00.000000Z"})
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join([header, *rewritten]) + "\n", encoding="utf-8")

    unnamed = await audit_cli(settings, "verify", "--file", str(forged))
    named = await audit_cli(settings, "verify", "--file", str(forged), "--log", settings.schema_name)
    taken_at_its_word = await audit_cli(settings, "verify", "--file", str(forged), "--log", "audit_copy")
    assert unnamed.exit_code == 1
    assert "--log is required with --file" in unnamed.stdout
    assert named.exit_code == 1
    assert f"is an export of log 'audit_copy', not of '{settings.schema_name}'" in named.stdout
    assert taken_at_its_word.exit_code == 0, taken_at_its_word.stdout
    assert f"{len(kept)} record(s) after record 0 are covered by no checkpoint yet" in taken_at_its_word.stdout


async def test_records_after_the_last_signed_head_are_counted_as_uncovered(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    mix = await record(settings, bus)
    covered = await audit_cli(settings, "verify")
    assert "every record is covered by a checkpoint" in covered.stdout, covered.stdout
    async with as_owner(settings) as conn:
        await init_connection(conn)
        last = await repository.record_at(conn, mix.expected_records)
        assert last is not None
        appended = Entry(
            **{**last.entry.__dict__, "kind": "not_cloudevent", "event_source": "kafka:forged", "event_id": "0:0"}
        )
        await repository.append(conn, link([appended], last.seq, last.hash, last.recorded_at))
    result = await audit_cli(settings, "verify")
    assert result.exit_code == 0, result.stdout
    assert f"1 record(s) after record {mix.expected_records} are covered by no checkpoint yet" in result.stdout
