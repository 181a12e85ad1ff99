"""The operator's audit tool: `python -m services.audit.cli verify|export|checkpoint|keygen|trail`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.keys import COMMITTED, KeyRegistry
from runtime.clock import SystemClock
from runtime.json_output import AsJson, print_json
from runtime.progress import Advance, progress
from services.audit import checkpoints, export_file, keys, repository, trail_view
from services.audit.chain import AuditRecord
from services.audit.connections import reading_pool, take_checkpoint
from services.audit.settings import AuditSettings
from services.audit.signatures import SignatureAudit
from services.audit.verification import ChainVerifier, Finding

T = TypeVar("T")
app = typer.Typer(help="Verify, export, query and checkpoint the audit log.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Connect with this DSN instead of the writer role (e.g. a read-only role)."),
]


def _verify_key(settings: AuditSettings) -> Ed25519PublicKey | None:
    if settings.audit_verify_key:
        return checkpoints.load_verify_key(settings.audit_verify_key)
    if settings.audit_signing_key:
        return checkpoints.load_signing_key(settings.audit_signing_key).public_key()
    return None


def _run(work: Coroutine[Any, Any, T], fail: Callable[[str], NoReturn] | None = None) -> T:
    """Run one command's I/O; a database that cannot be reached or refuses us is a clear failure, not a trace."""
    try:
        return asyncio.run(work)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        (fail or _fail)(f"database: {type(error).__name__}: {error}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"FAILED: {message}")
    raise typer.Exit(code=1)


@app.command()
def verify(
    file: Annotated[Path | None, typer.Option("--file", help="Verify an exported file, not the database.")] = None,
    log: Annotated[
        str | None,
        typer.Option("--log", help="The log whose checkpoints to hold the records against; required with --file."),
    ] = None,
    checkpoint_dir: Annotated[
        Path | None, typer.Option("--checkpoint-dir", help="Where that log's checkpoints are (AUDIT_CHECKPOINT_DIR).")
    ] = None,
    key_registry: Annotated[
        list[Path] | None,
        typer.Option(
            "--keys",
            help="Key registry to verify events' signatures with (repeatable); default the "
            "committed one and the installation's.",
        ),
    ] = None,
    database_url: DatabaseOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result, counts and findings as one JSON object.")
    ] = False,
) -> None:
    """Recompute the hash chain, re-verify every event's signature, and check every checkpoint; exit 1 naming the
    first bad record. You, not the file, name the log: an export is held against that log's checkpoints.

    Example: `lhl audit verify` or, offline, `lhl audit verify --file audit-2023.jsonl --log audit --json`
    """
    settings = AuditSettings()
    fail = _fail_json if as_json else _fail
    if file is not None and log is None:
        fail(
            "--log is required with --file: name the log whose checkpoints the export must match (its header is "
            "not trusted to choose them)"
        )
    log = log or settings.schema_name
    try:
        if file is not None:
            named = str(export_file.read_header(file)["log"])
            if named != log:
                fail(f"{file} is an export of log {named!r}, not of {log!r}: it is not the log you asked to verify")
        loaded = checkpoints.load(checkpoint_dir or Path(settings.audit_checkpoint_dir), log, _verify_key(settings))
        good = [(c.path.name, c.checkpoint) for c in loaded if c.checkpoint is not None]
        registries = key_registry or [COMMITTED, settings.key_registry_path]
        verifier = ChainVerifier(good, SignatureAudit(KeyRegistry.load(registries)))
        records = export_file.read_records(file) if file is not None else None
        finding = _run(_verify(verifier, settings, database_url, records), fail)
    except (OSError, ValueError, export_file.ExportFormatError, checkpoints.KeyLoadError) as error:
        fail(str(error))
    bad = [c for c in loaded if c.problem is not None]
    problems = [f"checkpoint {c.path.name}: {c.problem}" for c in bad]
    if finding is not None:
        problems.insert(0, finding.message)
    latest = max((cp.record_count for _, cp in good), default=0)
    uncovered = verifier.count - latest
    if as_json:
        _print_verification(verifier, problems, checkpoints_held=len(good), latest=latest, uncovered=uncovered)
        if problems:
            raise typer.Exit(code=1)
        return
    if problems:
        _fail("; ".join(problems))
    tail = (
        f"; {uncovered} record(s) after record {latest} are covered by no checkpoint yet (anyone who can write the "
        "database could have appended or rewritten them)"
        if uncovered > 0
        else "; every record is covered by a checkpoint"
    )
    signed = f"; {verifier.signatures.summary()}" if verifier.signatures is not None else ""
    typer.echo(
        f"OK: {verifier.count} records verified, head {verifier.head_hash}{signed}; "
        f"{len(good)} signed checkpoint(s) held, the latest covering {latest} records{tail}"
    )


def _fail_json(message: str) -> NoReturn:
    typer.echo(json.dumps({"result": "failed", "findings": [message]}, ensure_ascii=False))
    raise typer.Exit(code=1)


def _print_verification(
    verifier: ChainVerifier, problems: list[str], *, checkpoints_held: int, latest: int, uncovered: int
) -> None:
    """The verdict for a machine: the same facts as the sentence, each under its own name."""
    signatures = verifier.signatures
    answer: dict[str, Any] = {
        "result": "failed" if problems else "ok",
        "records": verifier.count,
        "head": verifier.head_hash,
        "checkpoints": checkpoints_held,
        "latest_checkpoint_records": latest,
        "uncovered_records": max(uncovered, 0),
        "signatures": None
        if signatures is None
        else {
            "verified": signatures.signed,
            "keys": len(signatures.signers),
            "recorded_as_unauthenticated": signatures.unauthenticated,
            "before_signing": signatures.before_signing,
        },
        "findings": problems,
    }
    typer.echo(json.dumps(answer, ensure_ascii=False))


async def _verify(
    verifier: ChainVerifier, settings: AuditSettings, database_url: str | None, records: Iterator[AuditRecord] | None
) -> Finding | None:
    if records is not None:
        with progress("verifying the export", None) as advance:
            return _feed_all(verifier, records, advance)
    # One snapshot for the whole walk, so records appended meanwhile do not confuse the check.
    async with (
        reading_pool(settings, database_url) as pool,
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        total, _ = await repository.head(conn)
        with progress("verifying the audit log", total) as advance:
            async for record in repository.all_records(conn):
                if finding := verifier.feed(record):
                    return finding
                advance(1)
    return verifier.finish()


def _feed_all(verifier: ChainVerifier, records: Iterator[AuditRecord], advance: Advance) -> Finding | None:
    for record in records:
        if finding := verifier.feed(record):
            return finding
        advance(1)
    return verifier.finish()


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write (JSON lines).")], as_json: AsJson = False
) -> None:
    """Write the whole log as JSON lines: a header, then one record per line in chain order.

    Example: `lhl audit export --out audit-2023.jsonl` (`--json`: `{"records": 1234, "file": "audit-2023.jsonl"}`)
    """
    settings = AuditSettings()
    count = _run(_export(settings, out))
    if as_json:
        print_json({"records": count, "file": out})
        return
    typer.echo(f"exported {count} records to {out}")


async def _export(settings: AuditSettings, out: Path) -> int:
    count = 0
    async with (
        reading_pool(settings, None) as pool,
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        total, _ = await repository.head(conn)
        with out.open("w", encoding="utf-8") as target, progress(f"exporting to {out}", total) as advance:
            target.write(export_file.header_line(settings.schema_name, SystemClock().now()))
            async for record in repository.all_records(conn):
                target.write(export_file.record_line(record))
                count += 1
                advance(1)
    return count


@app.command()
def checkpoint(as_json: AsJson = False) -> None:
    """Sign the current record count and head hash now, and write them to the checkpoint folder.

    Example: `lhl audit checkpoint` (`--json`: `{"file": ...}`, the checkpoint file's path)
    """
    settings = AuditSettings()
    try:
        path = _run(_checkpoint(settings))
    except (OSError, checkpoints.KeyLoadError) as error:
        _fail(str(error))
    if as_json:
        print_json({"file": path})
        return
    typer.echo(f"checkpoint written: {path}")


async def _checkpoint(settings: AuditSettings) -> Path:
    async with reading_pool(settings, None) as pool:
        return await take_checkpoint(pool, settings, SystemClock())


@app.command()
def keygen(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the two PEM files.")] = Path(
        ".local/audit-keys"
    ),
) -> None:
    """Create an Ed25519 key pair for signing checkpoints, and print the settings that use it.

    Example: `lhl audit keygen --out-dir /etc/lhl/audit-keys`
    """
    try:
        signing, verifying = keys.generate(out_dir)
    except OSError as error:
        _fail(str(error))
    typer.echo(f"signing key (keep secret): {signing}\nverify key (share with auditors): {verifying}")
    typer.echo(f"AUDIT_SIGNING_KEY={signing}\nAUDIT_VERIFY_KEY={verifying}")


@app.command()
def trail(
    correlation_id: Annotated[str | None, typer.Option("--correlation-id")] = None,
    agreement: Annotated[str | None, typer.Option("--agreement")] = None,
    region: Annotated[str | None, typer.Option("--region", help="County governor office id, or 'national'.")] = None,
    event_type: Annotated[str | None, typer.Option("--type")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this ISO time (event time), inclusive.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this ISO time (event time), exclusive.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    output: Annotated[str, typer.Option("--output", help="table (for people) or jsonl (for machines).")] = "table",
    database_url: DatabaseOption = None,
) -> None:
    """Show the recorded events that match, in the order they were recorded.

    Example: `lhl audit trail --correlation-id 6f1c0b4e-3d0a-4f57-9a52-2f0d7c1e9b11 --output jsonl`
    """
    if output not in ("table", "jsonl"):
        _fail(f"--output: expected 'table' or 'jsonl', got {output!r}")
    wanted = repository.TrailFilter(
        correlation_id=correlation_id,
        agreement_id=agreement,
        region=region,
        event_type=event_type,
        event_source=source,
        since=_moment("--since", since),
        until=_moment("--until", until),
        limit=limit,
    )
    records = _run(_trail(AuditSettings(), database_url, wanted))
    if output == "jsonl":
        for record in records:
            typer.echo(json.dumps(trail_view.as_json(record), ensure_ascii=False))
    else:
        trail_view.print_table(records)


def _moment(option: str, text: str | None) -> datetime | None:
    try:
        return trail_view.as_utc(datetime.fromisoformat(text)) if text else None
    except ValueError:
        _fail(f"{option}: {text!r} is not an ISO 8601 date or time (e.g. 2022-05-15 or 2022-05-15T08:00:00+02:00)")


async def _trail(
    settings: AuditSettings, database_url: str | None, wanted: repository.TrailFilter
) -> list[AuditRecord]:
    async with reading_pool(settings, database_url) as pool, pool.acquire() as conn:
        return await repository.trail(conn, wanted)


if __name__ == "__main__":
    app()
