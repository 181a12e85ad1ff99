"""From a Kafka record to a typed event the service may act on, or a rejection that says what is wrong and where.

One function, `admit`, runs every check an event must pass before a handler sees it, in this order:
1. the bytes are JSON within the contract's limits (`read_json`);
2. the record is a CloudEvent in structured or binary mode, as the CloudEvents Kafka binding defines them
   (`envelope_of`);
3. the envelope and the data match their committed JSON Schemas, strictly (`contracts.validation`);
4. the record's key is the event's `partitionkey`;
5. the owning service's checks against the reference data: codes valid on the event's date, who may send it,
   the agreement's term (`Check`s registered by the service).
The services' pipeline and `lhl publish --dry-run` both call it, so a publisher's dry run answers as the service
will.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from contracts import catalog, problems, validation
from contracts.envelope import BATCH_CONTENT_TYPE, CONTENT_TYPE, DATA_CONTENT_TYPE, CloudEvent
from contracts.events.base import EventData
from contracts.reference import ReferenceDataError
from contracts.rejections import Reason, Rejected
from runtime import boundary
from runtime.json_reading import read_json
from runtime.records import Incoming

Check = Callable[[CloudEvent, Any], None]
"""A service's check of one event type against the reference data: returns, or raises Rejected."""

CE_PREFIX = "ce_"
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


def media_type(content_type: str, where: str) -> str:
    """The media type of a content type, lower-cased; a charset parameter must be UTF-8 (JSON is UTF-8)."""
    kind, *parameters = (part.strip() for part in content_type.split(";"))
    for parameter in parameters:
        name, _, argument = parameter.partition("=")
        if name.strip().lower() == "charset" and argument.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Rejected(
                Reason.NOT_CLOUDEVENT,
                f"{where}: charset {argument.strip()!r} is not accepted; JSON events are UTF-8 (charset=utf-8)",
            )
    return kind.lower()


def _header(headers: tuple[tuple[str, bytes | None], ...], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            if value is None:
                return None
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise Rejected(Reason.NOT_CLOUDEVENT, f"header {key}: the value is not UTF-8 text") from error
    return None


def envelope_of(record: Incoming) -> dict[str, Any]:
    """The event's attributes and data as one JSON object, read in the mode the record's `content-type` says.

    Structured mode (`application/cloudevents+json`, or no content type and no `ce_` headers): the value is the
    whole event. Binary mode (`ce_` headers): the headers carry the attributes and the value is the data; the
    `partitionkey`, when no header names it, is the record's key, as the binding maps it.
    """
    content_type = _header(record.headers, "content-type")
    kind = media_type(content_type, "header content-type") if content_type is not None else None
    binary = any(name.lower().startswith(CE_PREFIX) for name, _ in record.headers)
    if kind == BATCH_CONTENT_TYPE:
        raise Rejected(
            Reason.NOT_CLOUDEVENT,
            f"header content-type: {BATCH_CONTENT_TYPE} (batch mode) is not accepted on Kafka; send one event per "
            "record",
        )
    if kind is not None and kind.startswith("application/cloudevents"):
        if kind != CONTENT_TYPE:
            raise Rejected(
                Reason.NOT_CLOUDEVENT,
                f"header content-type: event format {kind} is not accepted; expected {CONTENT_TYPE}",
            )
        return _structured(record.value)
    if binary:
        return _binary(record, kind)
    return _structured(record.value)


def _structured(value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise Rejected(Reason.NOT_JSON, "the record has no value (tombstone); expected a CloudEvent in JSON")
    raw = read_json(value)
    if not isinstance(raw, dict):
        raise Rejected(
            Reason.NOT_CLOUDEVENT,
            f"expected a JSON object (a CloudEvent in structured mode), got {_json_kind(raw)}; an event in binary "
            "mode carries its attributes in ce_ headers",
        )
    if "datacontenttype" in raw and isinstance(raw["datacontenttype"], str):
        raw["datacontenttype"] = media_type(raw["datacontenttype"], "datacontenttype")
    if "data_base64" in raw:
        if "data" in raw:
            raise Rejected(Reason.NOT_CLOUDEVENT, "data and data_base64: an event carries one or the other, not both")
        encoded = raw.pop("data_base64")
        if not isinstance(encoded, str):
            raise Rejected(Reason.NOT_CLOUDEVENT, "data_base64: expected base64 text")
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise Rejected(Reason.NOT_CLOUDEVENT, "data_base64: not valid base64") from error
        raw["data"] = read_json(decoded, "data_base64")
    return raw


def _binary(record: Incoming, kind: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, value in record.headers:
        if not name.lower().startswith(CE_PREFIX):
            continue
        attribute = name[len(CE_PREFIX) :].lower()
        if attribute in raw:
            raise Rejected(Reason.NOT_CLOUDEVENT, f"header {name}: appears more than once")
        text = _header(((name, value),), name.lower())
        if text is None:
            raise Rejected(Reason.NOT_CLOUDEVENT, f"header {name}: has no value")
        raw[attribute] = text
    if kind is not None:
        raw["datacontenttype"] = kind
    if "partitionkey" not in raw and record.key is not None:
        try:
            raw["partitionkey"] = record.key.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Rejected(Reason.WRONG_KEY, "the record's key is not UTF-8 text") from error
    if record.value is None:
        raise Rejected(Reason.NOT_JSON, "the record has no value; in binary mode the value is the event's data")
    raw["data"] = read_json(record.value, "the value (the event's data, in binary mode)")
    return raw


def _json_kind(value: Any) -> str:
    return {list: "a list", str: "a text", bool: "true or false", type(None): "null"}.get(type(value), "a number")


def admit(
    record: Incoming,
    types: Mapping[str, catalog.EventType],
    checks: Mapping[str, Check] | None = None,
    verify: Callable[[Incoming], object] | None = None,
) -> tuple[CloudEvent, EventData]:
    """The typed event, or Rejected with a stable reason and a message naming each wrong field.

    `verify` (the services pass runtime.verification) runs as soon as the record is a well-formed event, before its
    key or anything it says is judged against the reference data: an event nobody vouches for is refused as
    `unauthenticated`.
    """
    raw = envelope_of(record)
    event, data = _validated(raw, types)
    if verify is not None:
        verify(record)
    try:
        _check_key(record, event)
        check = (checks or {}).get(event.type)
        if check is not None:
            try:
                check(event, data)
            except ReferenceDataError as error:
                raise Rejected(Reason.INVALID_REFERENCE, str(error)) from error
    except Rejected as rejected:
        rejected.event = event
        raise
    return event, data


Admitted = tuple[CloudEvent, EventData] | Exception
"""A record read, verified and validated, or why not: the refusal, or the failure of a bug in reading it."""


def verdict(
    record: Incoming,
    types: Mapping[str, catalog.EventType],
    checks: Mapping[str, Check] | None = None,
    verify: Callable[[Incoming], object] | None = None,
) -> Admitted:
    """The boundary's limits, then `admit`, with the refusal or failure returned: no database, no shared state that
    changes, so the pipeline judges a whole batch before its transaction opens."""
    try:
        refused = boundary.refusal(record)
        return refused if refused is not None else admit(record, types, checks, verify=verify)
    except Exception as error:
        return error


def _check_key(record: Incoming, event: CloudEvent) -> None:
    """Kafka orders a region's events by key: a record keyed otherwise than its partitionkey would be ordered with
    another region's events (or none)."""
    if record.key != event.partitionkey.encode():
        got = "no key" if record.key is None else f"the key {record.key[:100]!r}"
        raise Rejected(
            Reason.WRONG_KEY,
            f"partitionkey: the record's Kafka key must be the event's partitionkey {event.partitionkey!r}; got {got}",
        )


def parse_event(value: bytes | None, types: Mapping[str, catalog.EventType]) -> tuple[CloudEvent, EventData]:
    """A structured-mode value alone (no key, no headers) to a typed event: for tools that hold just the bytes."""
    return _validated(_structured(value), types)


def _validated(raw: dict[str, Any], types: Mapping[str, catalog.EventType]) -> tuple[CloudEvent, EventData]:
    wrong = [name for name in REQUIRED_ATTRIBUTES if not isinstance(raw.get(name), str)]
    if wrong:
        raise Rejected(
            Reason.NOT_CLOUDEVENT,
            "; ".join(
                f"{name}: missing; every CloudEvent has this attribute"
                if name not in raw
                else f"{name}: expected a text, got {problems.value(raw[name])}"
                for name in wrong
            ),
        )
    kind = types.get(raw["type"])
    if kind is None:
        accepted = ", ".join(sorted(types))
        raise Rejected(
            Reason.UNKNOWN_TYPE, f"type: '{raw['type']}' is not accepted on this topic (accepted: {accepted})"
        )
    if raw.get("dataschema") != kind.dataschema:
        raise Rejected(
            Reason.WRONG_DATASCHEMA,
            f"dataschema: '{raw.get('dataschema')}' does not match type {kind.name}: expected '{kind.dataschema}'",
        )
    wrong_fields = validation.envelope_problems(raw)
    if not wrong_fields and raw.get("datacontenttype", DATA_CONTENT_TYPE) == DATA_CONTENT_TYPE:
        wrong_fields = validation.data_problems(kind, raw["data"])
    if wrong_fields:
        raise Rejected(Reason.INVALID_DATA, "; ".join(wrong_fields))
    try:
        return CloudEvent.model_validate(raw), kind.model.model_validate(raw["data"])
    except ValidationError as error:  # the schema allows what the models do not: a gap to close, said plainly
        raise Rejected(Reason.INVALID_DATA, _pydantic_problems(error)) from error


def _pydantic_problems(error: ValidationError) -> str:
    return "; ".join(
        ".".join(str(p) for p in item["loc"]) + f": {item['msg']}" for item in error.errors(include_url=False)
    )
