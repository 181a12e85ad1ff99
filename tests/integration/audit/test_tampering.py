"""The schema's owner can get past the trigger and change the log, but `audit verify` names the first bad record."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from services.audit import repository
from services.audit.chain import link
from services.audit.connections import init_connection
from services.audit.settings import AuditSettings
from tests.integration.audit.helpers import (
    as_owner,
    audit_cli,
    audit_settings,
    running_audit,
    wait_for_count,
    wait_until_caught_up,
)
from tests.integration.audit.mix import publish_standalone_mix
from tests.support.infra import Infra
from tests.support.kafka import Bus

Tamper = Callable[[asyncpg.Connection], Awaitable[None]]


@pytest.fixture
async def recorded(infra: Infra, run_id: str, bus: Bus, tmp_path: Path) -> AuditSettings:
    """A log of a realistic mix with redeliveries and a dead letter, with a signed checkpoint over all of it."""
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    async with running_audit(settings) as audit:
        mix = await publish_standalone_mix(bus)
        await wait_for_count(audit, mix.expected_records)
        await wait_until_caught_up(audit)
    written = await audit_cli(settings, "checkpoint")
    assert written.exit_code == 0, written.stdout
    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout
    assert f"OK: {mix.expected_records} records verified" in verified.stdout
    assert "2 signed checkpoint(s)" in verified.stdout  # the one taken here, and the head signed after each batch
    return settings


async def bypassing_trigger(conn: asyncpg.Connection, *statements: str) -> None:
    """With the append-only triggers disabled for the transaction (the table's owner may; no superuser logs in)."""
    async with conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for statement in statements:
            await conn.execute(statement)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def edit_a_column(conn: asyncpg.Connection) -> None:
    await bypassing_trigger(conn, "UPDATE audit_log SET region = 'agder' WHERE seq = 3")


async def edit_what_was_reported(conn: asyncpg.Connection) -> None:
    # `data` is derived from the envelope, so changing the envelope's data changes both.
    await bypassing_trigger(
        conn,
        "UPDATE audit_log SET envelope = jsonb_set(envelope, '{data,summary}', '\"Ingenting å melde\"')"
        " WHERE seq = (SELECT min(seq) FROM audit_log WHERE data ? 'summary')",
    )


async def delete_a_record(conn: asyncpg.Connection) -> None:
    await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete")
    try:
        await conn.execute("DELETE FROM audit_log WHERE seq = 4")
    finally:
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete")


async def insert_a_forged_record(conn: asyncpg.Connection) -> None:
    """The strongest forger: knows the encoding, makes room at seq 3 and chains the forgery to record 2."""
    await init_connection(conn)
    second = await repository.record_at(conn, 2)
    assert second is not None
    forged_entry = replace(second.entry, event_id="forged-approval", reason=None)
    [forged] = link([forged_entry], 2, second.hash, second.recorded_at)
    await bypassing_trigger(
        conn,
        "UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 3",
        "UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000",
    )
    await repository.append(conn, [forged])


async def swap_two_records(conn: asyncpg.Connection) -> None:
    await bypassing_trigger(
        conn,
        "UPDATE audit_log SET seq = 1000003 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 1000003",
    )


async def cut_the_tail(conn: asyncpg.Connection) -> None:
    await bypassing_trigger(conn, "DELETE FROM audit_log WHERE seq > 5")


async def truncate_the_table(conn: asyncpg.Connection) -> None:
    await bypassing_trigger(conn, "TRUNCATE audit_log")


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        pytest.param(edit_a_column, "record 3 (", id="edit"),
        pytest.param(edit_what_was_reported, "envelope or data differ from the payload", id="edit-data"),
        pytest.param(delete_a_record, "record 4 is missing", id="delete"),
        pytest.param(insert_a_forged_record, "forged-approval", id="insert"),
        pytest.param(swap_two_records, "record 3 (", id="reorder"),
        pytest.param(cut_the_tail, "record 6 onwards is missing", id="truncate-below-checkpoint"),
        pytest.param(truncate_the_table, "record 1 onwards is missing", id="truncate"),
    ],
)
async def test_verify_fails_naming_the_first_bad_record_after_tampering(
    infra: Infra, recorded: AuditSettings, tamper: Tamper, named: str
) -> None:
    async with as_owner(recorded) as conn:
        await tamper(conn)
    result = await audit_cli(recorded, "verify")
    assert result.exit_code == 1, result.stdout
    assert result.stdout.startswith("FAILED: ")
    assert named in result.stdout


async def test_an_export_verifies_offline_and_an_edit_to_the_file_is_named(
    recorded: AuditSettings, tmp_path: Path
) -> None:
    exported = tmp_path / "audit.jsonl"
    assert (await audit_cli(recorded, "export", "--out", str(exported))).exit_code == 0
    log = ("--log", recorded.schema_name)
    assert (await audit_cli(recorded, "verify", "--file", str(exported), *log)).exit_code == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[4])
    record["reason_message"] = "alt i orden"
    lines[4] = json.dumps(record)
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = await audit_cli(recorded, "verify", "--file", str(exported), *log)
    assert result.exit_code == 1
    assert f"record {record['seq']} (" in result.stdout
    assert "edited" in result.stdout


async def test_the_trigger_stops_even_the_owner_who_does_not_bypass_it(recorded: AuditSettings) -> None:
    async with as_owner(recorded) as conn:
        for statement in ("UPDATE audit_log SET region = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
    assert (await audit_cli(recorded, "verify")).exit_code == 0


async def test_the_service_role_may_only_insert_and_select(recorded: AuditSettings) -> None:
    conn = await asyncpg.connect(recorded.writer_database_url, server_settings={"search_path": recorded.schema_name})
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_log") > 0
        for statement in (
            "UPDATE audit_log SET region = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "SET session_replication_role = replica",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_verify_answers_in_json_with_its_counts_and_nothing_on_stderr(recorded: AuditSettings) -> None:
    result = await audit_cli(recorded, "verify", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.stderr == ""  # no progress display outside a terminal
    answer = json.loads(result.stdout)
    assert answer["result"] == "ok"
    assert answer["findings"] == []
    assert answer["records"] > 0
    assert answer["latest_checkpoint_records"] == answer["records"]
    assert answer["uncovered_records"] == 0
    assert answer["checkpoints"] == 2
    assert answer["signatures"]["verified"] > 0
    assert answer["head"] == json.loads((await audit_cli(recorded, "verify", "--json")).stdout)["head"]


async def test_verify_in_json_names_the_edit_to_an_export_as_a_finding(recorded: AuditSettings, tmp_path: Path) -> None:
    exported = tmp_path / "audit.jsonl"
    export = await audit_cli(recorded, "export", "--out", str(exported))
    assert export.exit_code == 0
    assert export.stdout.startswith("exported ")
    assert export.stderr == ""
    lines = exported.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[4])
    record["reason_message"] = "alt i orden"
    lines[4] = json.dumps(record)
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = await audit_cli(recorded, "verify", "--file", str(exported), "--log", recorded.schema_name, "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["result"] == "failed"
    assert f"record {record['seq']} (" in answer["findings"][0]
    assert "edited" in answer["findings"][0]


async def test_verify_in_json_reports_a_usage_error_as_a_finding(recorded: AuditSettings, tmp_path: Path) -> None:
    result = await audit_cli(recorded, "verify", "--file", str(tmp_path / "audit.jsonl"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "result": "failed",
        "findings": [
            "--log is required with --file: name the log whose checkpoints the export must match (its header is "
            "not trusted to choose them)"
        ],
    }
