"""Pure rules of the audit: what a Kafka record is, under which key it is recorded, and what is kept of it."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from contracts import ed25519, limits
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID, EVENT_SOURCE, EVENT_TYPE
from contracts.envelope import CloudEvent
from contracts.keys import KeyRegistry
from contracts.nesting import PARSE_DEPTH, nests_deeper_than
from contracts.rejections import Reason
from contracts.signing import Unauthenticated, read, verify
from runtime.admission import envelope_of
from runtime.db import storable
from runtime.header_names import shown_name
from runtime.records import Incoming
from services.audit.chain import Entry, Kind

# PostgreSQL text and jsonb refuse NUL and lone surrogates; they are stored (and hashed) as U+FFFD (see storable).
_UNSTORABLE_ESCAPE: Final = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


@dataclass(frozen=True)
class Received:
    """A Kafka record as the audit consumer received it."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    key: bytes | None = None


def storable_json(value: Any) -> Any:
    """The JSON value with every string (and key) made storable, changed in place (it is always a value just
    parsed). Without recursion: a payload may nest up to `PARSE_DEPTH` levels, and a walk of two frames a level (the
    function and its comprehension) took some 800 of the interpreter's 1,000, where a finalizer that the collector
    runs meanwhile can fail unprintably (`contracts.nesting.PARSE_DEPTH` tells how that was met)."""
    if isinstance(value, str):
        return storable(value)
    pending = [value] if isinstance(value, dict | list) else []

    def made(item: Any) -> Any:
        """A text made storable; a container left for its turn."""
        if isinstance(item, str):
            return storable(item)
        if isinstance(item, dict | list):
            pending.append(item)
        return item

    while pending:
        container = pending.pop()
        if isinstance(container, list):
            container[:] = [made(item) for item in container]
            continue
        members = list(container.items())
        container.clear()  # then filled again in the same order: a key made storable may meet another, last wins
        for name, item in members:
            container[storable(name)] = made(item)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _FloatsSeen(threading.local):
    """Whether the record being parsed (on this thread) held a number with a fraction or an exponent."""

    seen = False


_floats = _FloatsSeen()


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        # 1e400 is valid JSON but no JSON encoder (nor PostgreSQL's jsonb) can write it back.
        raise ValueError(f"{text} is out of range")
    _floats.seen = True
    return value


# Built once: json.loads with a keyword argument would build a new decoder for every record.
_STRICT_JSON: Final = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


class ParsedText(dict[str, Any]):
    """A JSON object parsed from `text`, which PostgreSQL reads into the same jsonb: the log stores the text as it
    came instead of writing the object out again (`json.dumps` of each envelope took 6 % of the audit's time).

    Only text with no number but integers and nothing to make storable is kept this way. A number with a fraction
    or an exponent is written out again, as Python read it: PostgreSQL keeps every digit, so `1e-16000` would be
    stored as 16,000 characters, and `1e-20000` refused."""

    __slots__ = ("text",)

    def __init__(self, parsed: dict[str, Any], text: bytes) -> None:
        super().__init__(parsed)
        self.text = text


def parse_json(payload: bytes) -> Any:
    """The payload as storable JSON, or None when it is not strict JSON; an object that PostgreSQL can read from the
    payload itself is a `ParsedText`."""
    try:
        text = payload.decode("utf-8")
        if nests_deeper_than(text, PARSE_DEPTH):  # kept as bytes: too deep to parse safely (contracts.nesting)
            return None
        _floats.seen = False
        parsed = _STRICT_JSON.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    # Strict JSON can only carry NUL or a lone surrogate as a \u escape; most payloads need no walk at all.
    if _UNSTORABLE_ESCAPE.search(payload):
        return storable_json(parsed)
    return ParsedText(parsed, payload) if isinstance(parsed, dict) and not _floats.seen else parsed


def _cloud_event(parsed: Any) -> CloudEvent | None:
    if not isinstance(parsed, dict):
        return None
    try:
        return CloudEvent.model_validate(parsed)
    except ValidationError:
        return None


def _agreement_and_region(event: CloudEvent) -> tuple[str | None, str | None]:
    """Agreement and region from the data when it names them, else from the partition key '<agreement>/<region>'."""
    agreement, _, region = event.partitionkey.partition("/")
    data_agreement = event.data.get("agreement_id")
    data_region = event.data.get("region")
    return (
        data_agreement if isinstance(data_agreement, str) else agreement or None,
        data_region if isinstance(data_region, str) else region or None,
    )


INDEXABLE_LENGTH = 500
"""Longer than any bounded envelope attribute. A longer value (a header, the type, or an agreement or region from the
data) stays in the record's headers, envelope or data, but not in an indexed column, where PostgreSQL would refuse
it (a btree row holds about 2.7 kB) and stall the log in retries."""


def _indexable(header: str | None, length: int = INDEXABLE_LENGTH) -> str | None:
    return header if header is not None and len(header) <= length else None


def _identity_fits(source: str | None, event_id: str | None) -> bool:
    """The log's unique key holds source and id in one btree row, counted in bytes: the contract's character limits
    are chosen so that the worst case (four bytes a character) fits, and the audit keeps to the same limits."""
    return (
        source is not None
        and event_id is not None
        and len(source) <= limits.MAX_SOURCE_CHARS
        and len(event_id) <= limits.MAX_ID_CHARS
    )


def _header(name: str, value: bytes | None) -> tuple[str, str | None]:
    """A header as the log keeps it: a name that was not UTF-8 with its bytes as \\xNN, a null value as null."""
    return storable(shown_name(name)), None if value is None else storable(value.decode("utf-8", "replace"))


def entry_of(
    record: Received, dead_letter_topic: str, keys: KeyRegistry, at: datetime, check: ed25519.Check = ed25519.verifies
) -> Entry:
    """Classify one record: a CloudEvent that verifies, one that does not (unauthenticated), a dead letter (keyed by
    the rejected event), or a non-CloudEvent. Signatures are judged with the keys valid at `at`, as `check` answers
    (`ed25519.Check`)."""
    payload = record.value or b""
    headers = tuple(_header(name, value) for name, value in record.headers)
    by_name = {name: value for name, value in headers if value is not None}
    parsed = parse_json(payload)
    if record.topic != dead_letter_topic and _is_binary(record):
        parsed = _binary_envelope(record)
    event = _cloud_event(parsed)
    coordinates = (f"kafka:{storable(record.topic)}", f"{record.partition}:{record.offset}")
    kind: Kind
    signed_by_key: str | None = None
    if record.topic == dead_letter_topic:
        kind = "dead_letter"
        source, event_id = by_name.get(EVENT_SOURCE), by_name.get(EVENT_ID)
        if not _identity_fits(source, event_id):
            source, event_id = coordinates
        reason, reason_message = by_name.get(ERROR_CLASS), by_name.get(ERROR_MESSAGE)
    elif event is not None:
        source, event_id = (event.source, event.id) if _identity_fits(event.source, event.id) else coordinates
        try:
            signed_by_key = verify(read(payload, record.headers, record.key), keys, at, check).key.key_id
            kind, reason, reason_message = "event", None, None
        except Unauthenticated as error:
            kind, reason, reason_message = "unauthenticated", Reason.UNAUTHENTICATED.value, storable(str(error))
    else:
        kind, (source, event_id), reason, reason_message = "not_cloudevent", coordinates, None, None
    agreement, region = _agreement_and_region(event) if event is not None else (None, None)
    return Entry(
        kind=kind,
        event_source=storable(source or ""),
        event_id=storable(event_id or ""),
        event_type=_indexable(storable(event.type) if event else by_name.get(EVENT_TYPE)),
        event_time=_utc_or_none(event),
        correlation_id=storable(event.correlationid) if event else _indexable(by_name.get("correlationid")),
        agreement_id=_indexable(storable(agreement)) if agreement else None,
        region=_indexable(storable(region)) if region else None,
        topic=storable(record.topic),
        kafka_partition=record.partition,
        kafka_offset=record.offset,
        reason=reason,
        reason_message=reason_message,
        headers=headers,
        payload=payload,
        envelope=parsed if isinstance(parsed, dict) else None,
        data=parsed.get("data") if isinstance(parsed, dict) else None,
        message_key=record.key,
        dssematerial=storable(event.dssematerial) if event is not None and event.dssematerial else None,
        signed_by_key=signed_by_key,
    )


def _is_binary(record: Received) -> bool:
    """A CloudEvent in binary mode, as the Kafka binding tells it: `ce_` headers, and no structured content type."""
    names = {str(name).lower(): value for name, value in record.headers}
    content_type = (names.get("content-type") or b"").decode("utf-8", "replace").lower()
    return not content_type.startswith("application/cloudevents") and any(n.startswith("ce_") for n in names)


def _binary_envelope(record: Received) -> dict[str, Any] | None:
    """The event's attributes and data as one object, read as the services read it, or None when they would not."""
    incoming = Incoming(record.topic, record.partition, record.offset, record.key, record.value, record.headers)
    try:
        raw = envelope_of(incoming)
    except Exception:  # a binary record no service would read is recorded as what it is: not a CloudEvent
        return None
    envelope: dict[str, Any] = storable_json(raw)
    return envelope


def derived_envelope(entry: Entry) -> dict[str, Any] | None:
    """The envelope `entry_of` derived for this entry, derived again from its hashed fields alone (payload, headers
    and key), for `verify` to compare with the stored projection."""
    headers = tuple((name, None if value is None else value.encode()) for name, value in entry.headers)
    received = Received(
        entry.topic, entry.kafka_partition, entry.kafka_offset, entry.payload, headers, entry.message_key
    )
    if entry.kind != "dead_letter" and _is_binary(received):
        return _binary_envelope(received)
    parsed = parse_json(entry.payload)
    return parsed if isinstance(parsed, dict) else None


def bare_entry(record: Received, dead_letter_topic: str, why: str) -> Entry:
    """What is kept of a record whose full entry PostgreSQL refused (or could not be built): its bytes, under its
    coordinates, so that one record never holds up the log. `why` goes to the reason message."""
    kind: Kind = "dead_letter" if record.topic == dead_letter_topic else "not_cloudevent"
    return Entry(
        kind=kind,
        event_source=f"kafka:{storable(record.topic)}",
        event_id=f"{record.partition}:{record.offset}",
        event_type=None,
        event_time=None,
        correlation_id=None,
        agreement_id=None,
        region=None,
        topic=storable(record.topic),
        kafka_partition=record.partition,
        kafka_offset=record.offset,
        reason=None,
        reason_message=storable(why)[: limits.DEAD_LETTER_MESSAGE_CHARS],
        headers=(),
        payload=record.value or b"",
        message_key=record.key,
        envelope=None,
        data=None,
    )


def _utc_or_none(event: CloudEvent | None) -> datetime | None:
    if event is None:
        return None
    try:
        return event.time.astimezone(UTC)
    except OverflowError:
        # An offset that pushes the instant outside the calendar; the envelope keeps the original text.
        return None


def first_of_each_key(
    entries: list[Entry], recorded: Mapping[tuple[str, str, str], bytes]
) -> tuple[list[Entry], list[Entry]]:
    """Each key once, in arrival order: a redelivery (same source, id and kind) adds nothing.

    Returns the entries to record, and the duplicates whose bytes differ from the first copy: the same key for a
    different content is not a redelivery but a publisher reusing an id, which operators should hear about.
    """
    digests = dict(recorded)
    fresh: list[Entry] = []
    conflicting: list[Entry] = []
    for entry in entries:
        digest = hashlib.sha256(entry.payload).digest()
        first = digests.get(entry.key)
        if first is None:
            digests[entry.key] = digest
            fresh.append(entry)
        elif first != digest:
            conflicting.append(entry)
    return fresh, conflicting
