"""The AsyncAPI messages of the contract: one per event type, and the dead letter, with headers, key and examples.

What FastStream would write here is not what travels: it documents one message per subscriber and a correlation id
in a header no record carries. These are built from the contracts and the dead-letter runtime instead.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contracts import catalog, topics
from contracts.envelope import CONTENT_TYPE, DATA_CONTENT_TYPE, TRACEPARENT_PATTERN, CloudEvent
from contracts.events import meetings as mt
from contracts.reference import ReferenceData
from contracts.rejections import Reason, Rejected
from lhl import contract_examples, services
from runtime import deadletter
from runtime.admission import admit
from runtime.records import REPLAY_HEADER, Incoming

KAFKA_BINDING_VERSION: Final = "0.5.0"
DEAD_LETTER: Final = "DeadLetter"
"""The dead letter's message id; event types' messages are named by their type."""
DEAD_LETTER_CONTENT_TYPE: Final = "application/octet-stream"

SCHEMAS: Final = "#/components/schemas/"
STRUCTURED_HEADERS: Final = "StructuredModeHeaders"
PARTITION_KEY: Final = "PartitionKey"
DEAD_LETTER_HEADERS: Final = "DeadLetterHeaders"
DEAD_LETTER_KEY: Final = "DeadLetterKey"
DEAD_LETTER_VALUE: Final = "DeadLetterValue"
CORRELATION_IN_ENVELOPE: Final = "CloudEventCorrelationId"
CORRELATION_IN_HEADER: Final = "DeadLetterCorrelationId"

BINARY_MODE_NOTE: Final = (
    "Publishers may instead send it in binary mode (CloudEvents Kafka protocol binding): each envelope attribute "
    "but `data` as a `ce_<attribute>` header (`ce_specversion`, `ce_id`, `ce_source`, `ce_type`, `ce_time`, "
    f"`ce_dataschema`, `ce_correlationid`, ...), `content-type: {DATA_CONTENT_TYPE}` in place of "
    "`datacontenttype`, and the value holding `data` alone; without `ce_partitionkey` the record's key is taken "
    "as the partitionkey. The services accept both modes; what they publish is always structured."
)


def schemas() -> dict[str, Any]:
    """Every schema the messages refer to: the envelope, each type's data, each type's whole event, headers, keys."""
    models: list[type[BaseModel]] = [CloudEvent, *(kind.model for kind in catalog.EVENT_TYPES)]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS + "{model}")
    found: dict[str, Any] = dict(top.get("$defs", {}))
    for kind in catalog.EVENT_TYPES:
        found[kind.name] = {
            "title": kind.name,
            "description": f"The whole record value: the CloudEvent whose data is {kind.model.__name__}.",
            "allOf": [{"$ref": SCHEMAS + "CloudEvent"}],
            "properties": {
                "type": {"const": kind.name},
                "dataschema": {"const": kind.dataschema},
                "data": {"$ref": SCHEMAS + kind.model.__name__},
            },
        }
    found[STRUCTURED_HEADERS] = _structured_headers()
    found[PARTITION_KEY] = {
        "type": "string",
        "pattern": topics.PARTITION_KEY_PATTERN,
        "description": "The record key: the envelope's partitionkey, '<agreement>/<region|national>', so that one "
        f"region's events keep their order. A record whose key differs is dead-lettered as `{Reason.WRONG_KEY.value}`.",
        "examples": [topics.partition_key(contract_examples.AGREEMENT, r) for r in ("vestland", None)],
    }
    found[DEAD_LETTER_HEADERS] = _dead_letter_headers()
    found[DEAD_LETTER_KEY] = {
        "type": ["string", "null"],
        "description": "The rejected record's key, unchanged (read as UTF-8); null when it had none.",
    }
    found[DEAD_LETTER_VALUE] = {
        "type": "string",
        "contentEncoding": "binary",
        "description": "The rejected record's value, byte for byte: it may not be JSON, nor a CloudEvent.",
    }
    return found


def correlation_ids() -> dict[str, Any]:
    return {
        CORRELATION_IN_ENVELOPE: {
            "description": "The envelope's correlationid: the same on every event of one collaboration step.",
            "location": "$message.payload#/correlationid",
        },
        CORRELATION_IN_HEADER: {
            "description": "The rejected event's correlationid, when its envelope could be read.",
            "location": f"$message.header#/{deadletter.CORRELATION_ID}",
        },
    }


def event_message(kind: catalog.EventType) -> dict[str, Any]:
    description = f"{kind.description}\n\nPublished by {publisher(kind)} on `{kind.topic}`."
    if kind.producer == catalog.EXTERNAL:
        description += f"\n\n{BINARY_MODE_NOTE}"
    message: dict[str, Any] = {
        "name": kind.name,
        "title": _words(kind.model.__name__),
        "summary": kind.description.split("\n", 1)[0],
        "description": description,
        "contentType": CONTENT_TYPE,
        "correlationId": {"$ref": f"#/components/correlationIds/{CORRELATION_IN_ENVELOPE}"},
        "headers": {"$ref": SCHEMAS + STRUCTURED_HEADERS},
        "payload": {"$ref": SCHEMAS + kind.name},
        "bindings": {"kafka": {"key": {"$ref": SCHEMAS + PARTITION_KEY}, "bindingVersion": KAFKA_BINDING_VERSION}},
    }
    if kind.name in contract_examples.EXAMPLE_EVENTS:
        event = contract_examples.envelope(kind.name)
        headers = {"content-type": CONTENT_TYPE, **({"traceparent": event.traceparent} if event.traceparent else {})}
        message["examples"] = [
            {
                "name": kind.event,
                "summary": f"Key: {event.partitionkey}",
                "headers": headers,
                "payload": event.model_dump(mode="json", exclude_none=True),
            }
        ]
    return message


def dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A record a service could not process, unchanged, with headers saying where it came from and why.",
        "description": f"Written by the service that rejected the record, on `{topics.DEAD_LETTER}`. The key and "
        "value are the original record's; replay one with `lhl dlq replay` after the cause is fixed.",
        "contentType": DEAD_LETTER_CONTENT_TYPE,
        "correlationId": {"$ref": f"#/components/correlationIds/{CORRELATION_IN_HEADER}"},
        "headers": {"$ref": SCHEMAS + DEAD_LETTER_HEADERS},
        "payload": {"$ref": SCHEMAS + DEAD_LETTER_VALUE},
        "bindings": {"kafka": {"key": {"$ref": SCHEMAS + DEAD_LETTER_KEY}, "bindingVersion": KAFKA_BINDING_VERSION}},
        "examples": [_dead_letter_example()],
    }


def _structured_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The Kafka headers of a structured-mode CloudEvent: everything else is in the value.",
        "required": ["content-type"],
        "properties": {
            "content-type": {
                "type": "string",
                "const": CONTENT_TYPE,
                "description": "Says the value is a whole CloudEvent in structured mode.",
            },
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT_PATTERN,
                "description": "W3C trace context of the publishing operation, as in the envelope; optional.",
            },
            REPLAY_HEADER: {
                "type": "string",
                "pattern": r"^[0-9]+:[0-9]+$",
                "description": "Only on a dead letter sent back by `lhl dlq replay`: '<partition>:<offset>' of the "
                "dead letter it replays.",
            },
        },
    }


def _dead_letter_headers() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, doc in deadletter.HEADERS.items():
        schema: dict[str, Any] = {"type": "string", "description": doc.description}
        if doc.pattern:
            schema["pattern"] = doc.pattern
        if doc.format:
            schema["format"] = doc.format
        if doc.values:
            schema["enum"] = [value for value, _ in doc.values]
            schema["description"] += " " + " ".join(f"`{value}`: {meaning}" for value, meaning in doc.values)
        properties[name] = schema
    return {
        "type": "object",
        "description": "Where the rejected record came from and why it was rejected.",
        "required": [name for name, doc in deadletter.HEADERS.items() if doc.always],
        "properties": properties,
    }


def _dead_letter_example() -> dict[str, Any]:
    """A secretariat's scheduling naming county 12, which ceased to exist in 2020, as the admission step rejects it."""
    kind = catalog.of(mt.ContactMeetingScheduled)
    event = contract_examples.envelope(kind.name)
    value = event.model_dump(mode="json", exclude_none=True)
    value["data"]["county"] = "12"
    raw = json.dumps(value, ensure_ascii=False).encode()
    headers = event.kafka_headers()
    record = Incoming(
        kind.topic, 0, 41, event.partitionkey.encode(), raw, tuple((k, v.encode()) for k, v in headers.items())
    )
    try:
        admit(record, {kind.name: kind}, services.admission(ReferenceData.load()))
        raise AssertionError("the dead-letter example was meant to be rejected")
    except Rejected as rejected:
        reason, message = rejected.reason, rejected.message
    dead_letter_headers = deadletter.dead_letter_headers(
        record,
        group_id="lhl-meetings",
        reason=reason,
        message=message,
        failed_at=event.time + timedelta(seconds=2),
        event_source=event.source,
        event_id=event.id,
        event_type=event.type,
        correlation_id=event.correlationid,
        traceparent=event.traceparent,
    )
    return {"name": reason.value, "summary": message, "headers": dead_letter_headers, "payload": raw.decode()}


def publisher(kind: catalog.EventType) -> str:
    return "the government systems" if kind.producer == catalog.EXTERNAL else f"the {kind.producer} service"


def _words(class_name: str) -> str:
    """ContactMeetingHeld -> Contact meeting held."""
    words = re.findall(r"[A-Z][a-z0-9]*", class_name)
    return " ".join([words[0], *(w.lower() for w in words[1:])])
