"""`lhl demo`: start what is missing, replay the term on a simulated clock, and show what happened."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lhl.demo import report
from lhl.demo.mailbox import SinkUnavailableError
from lhl.demo.runner import DemoConfig, replay_term, running_demo
from runtime.settings import RuntimeSettings


def config_from_environment(years: range) -> DemoConfig:
    if not (os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL")):
        from deploy import stack

        # Into the environment, where each service's settings find its own credentials, as under `make demo`.
        os.environ.update(stack.up().as_env())
    operator = RuntimeSettings(service_name="lhl-cli")
    return DemoConfig(operator.kafka, operator.database_url, years)


async def run(config: DemoConfig, console: Console) -> report.Outcome:
    checkpoint_dir = tempfile.mkdtemp(prefix="lhl-demo-checkpoints-")
    started = time.monotonic()
    async with running_demo(config, checkpoint_dir) as demo:
        # Four services share this process: keep their logs to errors so the story stays readable.
        for name in ("", "faststream", "aiokafka", "lhl.faststream"):
            logging.getLogger(name).setLevel(logging.ERROR)
        console.print(
            f"Replaying {config.years.start}-{config.years.stop - 1} with meetings, evaluations, notifications and "
            f"audit on a simulated clock (topics {config.prefix}*, schemas demo_{config.run_id}_*)"
        )
        with Progress(
            TextColumn("[bold]{task.fields[day]}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("term", total=None, day="")

            def progress(now: datetime, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, day=now.strftime("%Y-%m-%d"))

            await replay_term(demo, progress)
        await report.show_status(demo, console)
        recipients = report.show_notifications(demo, console)
        reasons = await report.show_dead_letters(demo, console)
        records = await report.audit_record_count(demo)
        notifications = sum(count for _, count in demo.mailbox.counts())
        published = demo.published
    verified, output = report.verify_audit(demo, checkpoint_dir)
    console.print(f"audit verify ({records} records): {output}")
    console.print(
        f"Demo finished in {time.monotonic() - started:.0f} s: {published} events published, "
        f"{notifications} e-mails to {recipients} recipients, {sum(reasons.values())} dead letters."
    )
    return report.Outcome(published, reasons, notifications, recipients, records, verified, output)


def demo_command(
    first_year: Annotated[int, typer.Option("--from", help="First year to replay.")] = 2019,
    last_year: Annotated[int, typer.Option("--to", help="Last year to replay.")] = 2023,
) -> None:
    """Replay the agreement term 2019-2023 as the publishing systems would, on a fast simulated clock.

    It uses the broker and database `make run` started (or starts them), runs its own copy of every service on
    its own topics and schemas, sends notifications to a local SMTP sink, and ends with the status per year, the
    notifications per recipient, the dead letters, and `audit verify`.

    Example: `lhl demo` or `lhl demo --from 2021 --to 2021`
    """
    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        outcome = asyncio.run(run(config_from_environment(range(first_year, last_year + 1)), console))
    except SinkUnavailableError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    if not outcome.audit_verified:
        raise typer.Exit(1)
