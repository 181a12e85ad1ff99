"""The operator's audit tool: `python -m services.audit.cli verify|export|checkpoint|keygen|trail`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn

import asyncpg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from runtime.clock import SystemClock
from services.audit import checkpoints, keys, repository, trail_view
from services.audit.app import init_connection, take_checkpoint, writer_pool
from services.audit.chain import AuditRecord, canonical_json, utc_text
from services.audit.settings import AuditSettings
from services.audit.verification import ChainVerifier, Finding

EXPORT_FORMAT: Final = "lhl-audit-export/1"

app = typer.Typer(help="Verify, export, query and checkpoint the audit log.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Connect with this DSN instead of the writer role (e.g. a read-only role)."),
]


@asynccontextmanager
async def _pool(settings: AuditSettings, database_url: str | None) -> AsyncIterator[asyncpg.Pool]:
    if database_url:
        pool = await asyncpg.create_pool(
            database_url,
            min_size=1,
            max_size=2,
            init=init_connection,
            server_settings={"search_path": settings.schema_name},
        )
        assert pool is not None
    else:
        pool = await writer_pool(settings, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def _verify_key(settings: AuditSettings) -> Ed25519PublicKey | None:
    if settings.audit_verify_key:
        return checkpoints.load_verify_key(settings.audit_verify_key)
    if settings.audit_signing_key:
        return checkpoints.load_signing_key(settings.audit_signing_key).public_key()
    return None


def _fail(message: str) -> NoReturn:
    typer.echo(f"FAILED: {message}")
    raise typer.Exit(code=1)


@app.command()
def verify(
    file: Annotated[Path | None, typer.Option("--file", help="Verify an exported file, not the database.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Recompute the hash chain and check every checkpoint; exit 1 naming the first bad record."""
    settings = AuditSettings()
    log = settings.schema_name
    if file is not None:
        log = _export_header(file).get("log", log)
    loaded = checkpoints.load(Path(settings.audit_checkpoint_dir), log, _verify_key(settings))
    bad = [c for c in loaded if c.problem is not None]
    good = [(c.path.name, c.checkpoint) for c in loaded if c.checkpoint is not None]
    verifier = ChainVerifier(good)
    records = _records_from_file(file) if file is not None else None
    finding = asyncio.run(_verify(verifier, settings, database_url, records))
    problems = [f"checkpoint {c.path.name}: {c.problem}" for c in bad]
    if finding is not None:
        problems.insert(0, finding.message)
    if problems:
        _fail("; ".join(problems))
    latest = max((cp.record_count for _, cp in good), default=0)
    typer.echo(
        f"OK: {verifier.count} records verified, head {verifier.head_hash}; "
        f"{len(good)} signed checkpoint(s) held, the latest covering {latest} records"
    )


async def _verify(
    verifier: ChainVerifier, settings: AuditSettings, database_url: str | None, records: Iterator[AuditRecord] | None
) -> Finding | None:
    if records is not None:
        for record in records:
            if finding := verifier.feed(record):
                return finding
        return verifier.finish()
    # One snapshot for the whole walk, so records appended meanwhile do not confuse the check.
    async with (
        _pool(settings, database_url) as pool,
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        async for record in repository.all_records(conn):
            if finding := verifier.feed(record):
                return finding
    return verifier.finish()


def _export_header(file: Path) -> dict[str, Any]:
    with file.open(encoding="utf-8") as lines:
        header: Any = json.loads(lines.readline() or "{}")
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        _fail(f"{file}: line 1 is not an export header with format {EXPORT_FORMAT}")
    return header


def _records_from_file(file: Path) -> Iterator[AuditRecord]:
    with file.open(encoding="utf-8") as lines:
        next(lines)
        for number, line in enumerate(lines, start=2):
            try:
                yield AuditRecord.from_export(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                _fail(f"{file}:{number}: not an audit record ({type(error).__name__}: {error})")


@app.command()
def export(out: Annotated[Path, typer.Option("--out", help="File to write (JSON lines).")]) -> None:
    """Write the whole log as JSON lines: a header, then one record per line in chain order."""
    settings = AuditSettings()
    count = asyncio.run(_export(settings, out))
    typer.echo(f"exported {count} records to {out}")


async def _export(settings: AuditSettings, out: Path) -> int:
    count = 0
    header = {"format": EXPORT_FORMAT, "log": settings.schema_name, "exported_at": utc_text(SystemClock().now())}
    async with (
        _pool(settings, None) as pool,
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        with out.open("w", encoding="utf-8") as target:
            target.write(canonical_json(header).decode() + "\n")
            async for record in repository.all_records(conn):
                target.write(canonical_json(record.to_export()).decode() + "\n")
                count += 1
    return count


@app.command()
def checkpoint() -> None:
    """Sign the current record count and head hash now, and write them to the checkpoint folder."""
    settings = AuditSettings()
    path = asyncio.run(_checkpoint(settings))
    typer.echo(f"checkpoint written: {path}")


async def _checkpoint(settings: AuditSettings) -> Path:
    async with _pool(settings, None) as pool:
        return await take_checkpoint(pool, settings, SystemClock())


@app.command()
def keygen(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the two PEM files.")] = Path(
        ".local/audit-keys"
    ),
) -> None:
    """Create an Ed25519 key pair for signing checkpoints, and print the settings that use it."""
    signing, verifying = keys.generate(out_dir)
    typer.echo(f"signing key (keep secret): {signing}\nverify key (share with auditors): {verifying}")
    typer.echo(f"AUDIT_SIGNING_KEY={signing}\nAUDIT_VERIFY_KEY={verifying}")


@app.command()
def trail(
    correlation_id: Annotated[str | None, typer.Option("--correlation-id")] = None,
    agreement: Annotated[str | None, typer.Option("--agreement")] = None,
    region: Annotated[str | None, typer.Option("--region", help="County governor office id, or 'national'.")] = None,
    event_type: Annotated[str | None, typer.Option("--type")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    since: Annotated[datetime | None, typer.Option("--since", help="From this time (event time), inclusive.")] = None,
    until: Annotated[datetime | None, typer.Option("--until", help="Up to this time (event time), exclusive.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    output: Annotated[str, typer.Option("--output", help="table (for people) or jsonl (for machines).")] = "table",
    database_url: DatabaseOption = None,
) -> None:
    """Show the recorded events that match, in the order they were recorded."""
    if output not in ("table", "jsonl"):
        _fail(f"--output: expected 'table' or 'jsonl', got {output!r}")
    wanted = repository.TrailFilter(
        correlation_id=correlation_id,
        agreement_id=agreement,
        region=region,
        event_type=event_type,
        event_source=source,
        since=trail_view.as_utc(since),
        until=trail_view.as_utc(until),
        limit=limit,
    )
    records = asyncio.run(_trail(AuditSettings(), database_url, wanted))
    if output == "jsonl":
        for record in records:
            typer.echo(json.dumps(trail_view.as_json(record), ensure_ascii=False))
    else:
        trail_view.print_table(records)


async def _trail(
    settings: AuditSettings, database_url: str | None, wanted: repository.TrailFilter
) -> list[AuditRecord]:
    async with _pool(settings, database_url) as pool, pool.acquire() as conn:
        return await repository.trail(conn, wanted)


if __name__ == "__main__":
    app()
