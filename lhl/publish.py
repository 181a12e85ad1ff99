"""`lhl publish`: validate an event file against the contracts, say exactly what is wrong, or publish it."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from contracts import catalog
from contracts.envelope import CONTENT_TYPE, CloudEvent
from contracts.reference import ReferenceData
from contracts.rejections import Reason, Rejected
from contracts.signing import Signer, sign_event
from contracts.topics import partition_key
from lhl import services
from runtime import keystore
from runtime.admission import admit
from runtime.records import Incoming
from runtime.settings import RuntimeSettings


def complete_envelope(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Fill what a publisher may leave out: id, time, specversion, dataschema, correlation id, partition key."""
    event = dict(raw)
    event["source"] = source
    event.setdefault("specversion", "1.0")
    event.setdefault("id", str(uuid.uuid4()))
    event.setdefault("time", datetime.now(UTC).isoformat())
    event.setdefault("correlationid", str(uuid.uuid4()))
    kind = catalog.BY_NAME.get(str(event.get("type")))
    data = event.get("data")
    if kind is not None:
        event.setdefault("dataschema", kind.dataschema)
    if isinstance(data, dict) and isinstance(data.get("agreement_id"), str):
        event.setdefault("partitionkey", partition_key(data["agreement_id"], data.get("region")))
    return event


def validate(raw: dict[str, Any], source: str, deps: ReferenceData | None = None) -> tuple[CloudEvent, str]:
    """The event and its topic, or Rejected: exactly the checks the owning service runs when the event arrives
    (its schema, strictly, then the reference data, who may send it and the agreement's term)."""
    event = complete_envelope(raw, source)
    kind = catalog.BY_NAME.get(str(event.get("type")))
    if kind is None or kind.producer != catalog.EXTERNAL:
        accepted = ", ".join(k.name for k in catalog.EVENT_TYPES if k.producer == catalog.EXTERNAL)
        raise Rejected(
            Reason.UNKNOWN_TYPE,
            f"type: {event.get('type')!r} is not published by external systems (accepted: {accepted})",
        )
    key = event.get("partitionkey")
    record = Incoming(
        topic=kind.topic,
        partition=0,
        offset=0,
        key=key.encode() if isinstance(key, str) else None,
        value=json.dumps(event).encode(),
        headers=(("content-type", CONTENT_TYPE.encode()),),
    )
    parsed, _ = admit(record, {kind.name: kind}, services.admission(deps or ReferenceData.load()))
    return parsed, kind.topic


class _StringDatesLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings, so the contract (not YAML) judges them."""


_StringDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        loaded = yaml.load(text, Loader=_StringDatesLoader) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        typer.echo(f"{path} is not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'JSON'}: {error}", err=True)
        raise typer.Exit(2) from error
    if not isinstance(loaded, dict):
        typer.echo(f"{path}: expected an object (a CloudEvent), got {type(loaded).__name__}", err=True)
        raise typer.Exit(2)
    return loaded


async def send(settings: RuntimeSettings, topic: str, event: CloudEvent) -> None:
    producer = AIOKafkaProducer(**settings.kafka.options(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic(topic),
            event.to_bytes(),
            key=event.partitionkey.encode(),
            headers=[("content-type", CONTENT_TYPE.encode())],
        )
    finally:
        await producer.stop()


def verdict(
    file: Path,
    outcome: str,
    *,
    reason: str | None = None,
    problems: list[str] | None = None,
    event_type: str | None = None,
    topic: str | None = None,
) -> str:
    """A dry run's answer as one JSON object with the same keys whatever the outcome, for a publisher's CI."""
    answer = {
        "file": str(file),
        "verdict": outcome,
        "reason": reason,
        "type": event_type,
        "topic": topic,
        "problems": problems or [],
    }
    return json.dumps(answer, ensure_ascii=False)


def publish_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A JSON or YAML event.")],
    source: Annotated[str, typer.Option(help="Your system's registered CloudEvents source.")],
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            dir_okay=False,
            help="Your Ed25519 private key (PEM) registered for the source; default the one `lhl keys generate "
            "--source SRC` wrote under KEYS_DIR.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="With --dry-run: print the verdict as one JSON object (verdict, reason, type, topic, problems).",
        ),
    ] = False,
) -> None:
    """Validate an event against the contracts and publish it to its topic.

    The file holds a CloudEvent; `id`, `time`, `specversion`, `dataschema`, `correlationid` and `partitionkey` are
    filled in when missing. What is wrong is printed as field paths with reasons.

    It logs in as KAFKA_USERNAME: the operator's under `deploy.stack env`, or a publishing system's own principal,
    which may write only its organisation's ingress topics. The event is signed (CloudEvents verifiability, DSSE
    with Ed25519) with `--key`; an unsigned event, or one signed by a key not registered for the source, is
    dead-lettered as `unauthenticated`.

    Example: `lhl publish meeting-held.yaml --source /statsforvalteren/vestland/moter --key vestland-moter.pem`

    Example: `lhl publish meeting-held.yaml --source /statsforvalteren/vestland/moter --dry-run --json`
    """
    if as_json and not dry_run:
        typer.echo("--json goes with --dry-run: a publish prints the event's id", err=True)
        raise typer.Exit(2)
    raw = load(file)
    if raw.get("source", source) != source:
        mismatch = f"source: the file says {raw['source']!r} but --source is {source!r}"
        if as_json:
            typer.echo(verdict(file, "rejected", reason="source_mismatch", problems=[mismatch]))
        else:
            typer.echo(mismatch, err=True)
        raise typer.Exit(1)
    try:
        event, topic = validate(raw, source)
    except Rejected as rejected:
        problems = rejected.message.split("; ")
        if as_json:
            typer.echo(verdict(file, "rejected", reason=rejected.reason.value, problems=problems))
        else:
            typer.echo(f"{file}: rejected ({rejected.reason.value})", err=True)
            for problem in problems:
                typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from rejected
    if dry_run:
        if as_json:
            typer.echo(verdict(file, "valid", event_type=event.type, topic=topic))
        else:
            typer.echo(f"valid {event.type} for {topic}")
        return
    settings = RuntimeSettings(service_name="lhl-cli")
    path = key or keystore.key_file(Path(settings.keys_dir), source)
    try:
        signer = Signer.from_file(path)
    except (OSError, ValueError) as error:
        typer.echo(f"--key: cannot sign with {path}: {error}", err=True)
        typer.echo(f"  make and register a key with: lhl keys generate --source {source}", err=True)
        raise typer.Exit(1) from error
    who = settings.kafka_username or "nobody (KAFKA_USERNAME is not set)"
    try:
        asyncio.run(send(settings, topic, sign_event(event, signer)))
    except TopicAuthorizationFailedError as refused:
        typer.echo(f"the broker refused: {who} may not write {settings.topic(topic)}", err=True)
        raise typer.Exit(1) from refused
    except KafkaConnectionError as refused:
        typer.echo(
            f"cannot log in to the broker at {settings.kafka_bootstrap_servers} as {who}: "
            "check KAFKA_USERNAME and KAFKA_PASSWORD",
            err=True,
        )
        raise typer.Exit(1) from refused
    typer.echo(event.id)
