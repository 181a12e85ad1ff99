"""Dead letters for operators: list them with their reasons, and replay chosen ones, each at most once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from contracts import dead_letter_headers as dl
from contracts import topics
from lhl import replay_ledger
from lhl.text import shorten
from runtime.db import Connection
from runtime.json_output import AsJson, print_json, print_json_lines
from runtime.progress import progress
from runtime.records import REPLAY_HEADER
from runtime.settings import RuntimeSettings

app = typer.Typer(help="Dead letters: what was rejected and why; replay after a fix.", no_args_is_help=True)

MESSAGE_WIDTH = 120
"""Characters of a message in `list`; `show` prints it whole."""


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def reason(self) -> str:
        return self.headers.get(dl.ERROR_CLASS, "?")

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "time": self.timestamp.isoformat(),
            "reason": self.reason,
            "message": self.headers.get(dl.ERROR_MESSAGE),
            "original_topic": self.headers.get(dl.ORIGINAL_TOPIC),
            "original_offset": self.headers.get(dl.ORIGINAL_OFFSET),
            "consumer_group": self.headers.get(dl.CONSUMER_GROUP),
            "event_source": self.headers.get(dl.EVENT_SOURCE),
            "event_id": self.headers.get(dl.EVENT_ID),
            "event_type": self.headers.get(dl.EVENT_TYPE),
            "correlation_id": self.headers.get("correlationid"),
        }


async def read_dead_letters(settings: RuntimeSettings) -> list[DeadLetter]:
    """Every record on the dead-letter topic, from the beginning to the current end."""
    topic = settings.topic(topics.DEAD_LETTER)
    consumer = AIOKafkaConsumer(
        topic,
        **settings.kafka.options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        async with asyncio.timeout(10):
            while not consumer.assignment():  # noqa: ASYNC110 - aiokafka offers no assignment event
                await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in (r.headers or ())}
                    moment = datetime.fromtimestamp(r.timestamp / 1000, tz=UTC)
                    letters.append(DeadLetter(r.partition, r.offset, moment, r.key, r.value or b"", headers))
    except TimeoutError:
        return []  # the topic does not exist yet: nothing was ever dead-lettered
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda d: (d.timestamp, d.partition, d.offset))


async def replay(settings: RuntimeSettings, refs: list[str]) -> dict[str, str]:
    """Send the chosen dead letters back to their original topics; a ref already replayed is skipped."""
    letters = {d.ref: d for d in await read_dead_letters(settings)}
    unknown = [r for r in refs if r not in letters]
    if unknown:
        raise ValueError(f"no dead letter at {', '.join(unknown)} (refs are partition:offset, see `lhl dlq list`)")
    dlq_topic = settings.topic(topics.DEAD_LETTER)
    results: dict[str, str] = {}
    async with replay_ledger.opened(settings.database_url) as ledger, ledger.acquire() as conn:
        producer = AIOKafkaProducer(**settings.kafka.options(), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            with progress("replaying dead letters", len(refs)) as advance:
                for ref in refs:
                    results[ref] = await _replay_one(conn, producer, dlq_topic, letters[ref])
                    advance(1)
        finally:
            await producer.stop()
    return results


async def _replay_one(conn: Connection, producer: AIOKafkaProducer, dlq_topic: str, letter: DeadLetter) -> str:
    """Send one dead letter back, unless it cannot be or already was; say which."""
    target = letter.headers.get(dl.ORIGINAL_TOPIC)
    if not target:
        return "skipped: no original topic header"
    if dl.VALUE_TRUNCATED in letter.headers or dl.KEY_TRUNCATED in letter.headers:
        # Replaying the first bytes of a record would only be rejected again, or worse, taken as the whole.
        return "skipped: the dead letter keeps only part of the record; the publisher must resend it"
    async with conn.transaction():
        if not await replay_ledger.claim(conn, dlq_topic, letter.partition, letter.offset, target):
            return "skipped: already replayed"
        # Published inside the ledger transaction: a failed send rolls the claim back for another try.
        headers = [("content-type", b"application/cloudevents+json"), (REPLAY_HEADER, letter.ref.encode())]
        await producer.send_and_wait(target, letter.value, key=letter.key, headers=headers)
    return f"replayed to {target}"


def _settings() -> RuntimeSettings:
    return RuntimeSettings(service_name="lhl-cli")


@app.command("list")
def list_command(
    reason: Annotated[str | None, typer.Option(help="Only this reason, e.g. invalid_data.")] = None,
    source: Annotated[str | None, typer.Option(help="Only events from this CloudEvents source.")] = None,
    as_json: AsJson = False,
) -> None:
    """List dead letters with their reasons; long messages are shortened with "…" (`show` prints one whole).

    Example: `lhl dlq list --reason invalid_reference --source /ks/agder/moter` (`--json`: one letter per line)
    """
    letters = [
        d
        for d in asyncio.run(read_dead_letters(_settings()))
        if reason in (None, d.reason) and source in (None, d.headers.get(dl.EVENT_SOURCE))
    ]
    if as_json:
        print_json_lines(letter.as_json() for letter in letters)
        return
    table = Table("ref", "time", "reason", "source", "type", "message")
    for letter in letters:
        row = letter.as_json()
        table.add_row(
            letter.ref,
            row["time"][:19],
            letter.reason,
            row["event_source"] or "",
            row["event_type"] or "",
            shorten(row["message"] or "", MESSAGE_WIDTH),
        )
    Console().print(table)


@app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="partition:offset from `lhl dlq list`.")], as_json: AsJson = False
) -> None:
    """Show one dead letter whole: its headers and the original value.

    Example: `lhl dlq show 0:12` or `lhl dlq show 0:12 --json`
    """
    letters = {d.ref: d for d in asyncio.run(read_dead_letters(_settings()))}
    if ref not in letters:
        typer.echo(f"no dead letter at {ref}", err=True)
        raise typer.Exit(1)
    letter = letters[ref]
    shown = {**letter.as_json(), "value": letter.value.decode(errors="replace")}
    if as_json:
        print_json(shown)
        return
    width = max(map(len, shown))
    for name, value in shown.items():
        if name != "value":
            typer.echo(f"{name:<{width}}  {'' if value is None else value}")
    typer.echo(f"value:\n{shown['value']}")


@app.command("replay")
def replay_command(
    refs: Annotated[list[str], typer.Argument(help="partition:offset refs to replay.")], as_json: AsJson = False
) -> None:
    """Send dead letters back to their original topic after a fix; each at most once.

    Example: `lhl dlq replay 0:12 2:7` (`--json`: `{"0:12": "replayed", ...}`)
    """
    try:
        results = asyncio.run(replay(_settings(), refs))
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    if as_json:
        print_json(results)
        return
    for ref, outcome in results.items():
        typer.echo(f"{ref}: {outcome}")
