"""What the demo shows at its end: the status per year, who was told how often, the dead letters, the audit check."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from contracts import reference
from lhl.demo.runner import Demo
from lhl.dlq import MESSAGE_WIDTH, read_dead_letters
from lhl.status import show_year
from lhl.text import shorten
from runtime.settings import RuntimeSettings
from services.audit import repository
from services.audit.connections import reading_pool
from services.audit.settings import AuditSettings
from services.evaluations.settings import EvaluationsSettings
from services.meetings.settings import MeetingsSettings


@dataclass(frozen=True)
class Outcome:
    """The figures a test (or a curious newcomer) can check after the demo."""

    published: int
    dead_letters: dict[str, int]
    notifications: int
    recipients: int
    audit_records: int
    audit_verified: bool
    audit_output: str


async def show_status(demo: Demo, console: Console) -> None:
    evaluations = EvaluationsSettings(**demo.settings("evaluations"))
    meetings = MeetingsSettings(**demo.settings("meetings"))
    today = demo.clock.now().date()
    for year in demo.config.years:
        await show_year(evaluations, meetings, reference.DEFAULT_AGREEMENT_ID, year, today, console)


def show_notifications(demo: Demo, console: Console) -> int:
    table = Table(title="Notifications per recipient (e-mails received by the local SMTP sink)")
    table.add_column("Recipient")
    table.add_column("Messages", justify="right")
    counts = demo.mailbox.counts()
    for address, count in counts:
        table.add_row(address, str(count))
    console.print(table)
    return len(counts)


async def show_dead_letters(demo: Demo, console: Console) -> dict[str, int]:
    ops = RuntimeSettings(
        service_name="lhl-cli",
        kafka_bootstrap_servers=demo.config.kafka.bootstrap_servers,
        database_url=demo.config.database_url,
        topic_prefix=demo.config.prefix,
    )
    letters = await read_dead_letters(ops)
    table = Table(title="Dead letters")
    for column in ("Reason", "Source", "Type", "Message"):
        table.add_column(column)
    reasons: dict[str, int] = {}
    for letter in letters:
        row = letter.as_json()
        reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
        message = shorten(row["message"] or "", MESSAGE_WIDTH)
        table.add_row(letter.reason, row["event_source"] or "", row["event_type"] or "", message)
    console.print(table)
    return reasons


def verify_audit(demo: Demo, checkpoint_dir: str) -> tuple[bool, str]:
    """Run the operator's own command, `audit verify`, against the demo's audit log."""
    env = {
        **os.environ,
        "DB_SCHEMA": demo.config.schema("audit"),
        "AUDIT_CHECKPOINT_DIR": checkpoint_dir,
        "AUDIT_SIGNING_KEY": demo.config.audit_signing_key,
        "KEYS_DIR": demo.config.keys_dir,
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.audit.cli", "verify"], env=env, capture_output=True, text=True, check=False
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


async def audit_record_count(demo: Demo) -> int:
    # The audit schema belongs to the audit's roles alone, not to the operator or the other services.
    settings = AuditSettings(**demo.config.common("audit"))
    async with reading_pool(settings) as pool, pool.acquire() as conn:
        return await repository.count(conn)
