"""The CloudEvents 1.0 envelope in structured mode, with this system's extensions."""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from datetime import datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from contracts import limits
from contracts.events.base import NO_NUL, Moment

CONTENT_TYPE: Final = "application/cloudevents+json"
BATCH_CONTENT_TYPE: Final = "application/cloudevents-batch+json"
DATA_CONTENT_TYPE: Final = "application/json"
SPEC_VERSION: Final = "1.0"
MAX_ID_LENGTH: Final = limits.MAX_ID_CHARS
MAX_SOURCE_LENGTH: Final = limits.MAX_SOURCE_CHARS
EVENT_TYPE_PATTERN: Final = r"^no\.levehelelivet\.[a-z0-9-]+\.[a-z0-9-]+\.v[1-9][0-9]*$"
TRACEPARENT_PATTERN: Final = "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
"""W3C trace context, version 00: the envelope attribute and the Kafka header alike."""
ATTRIBUTE_NAME = "^[a-z0-9]{1,40}$"
"""CloudEvents attribute names: lower-case letters and digits (the spec recommends at most 20 characters; we take
up to 40 from others and use fewer ourselves)."""
MAX_EXTENSIONS: Final = 32
EXTENSION_TEXT_CHARS: Final = 2000
CLOUDEVENTS_INTEGER = (-(2**31), 2**31 - 1)
"""The CloudEvents type system's Integer: a signed 32-bit number."""


def _extension_attributes(schema: dict[str, Any]) -> None:
    """Extension attributes we do not know are accepted and kept, as CloudEvents requires of a consumer; their
    names and values follow the spec's type system, within bounds."""
    schema["additionalProperties"] = {
        "anyOf": [
            {"type": "string", "maxLength": EXTENSION_TEXT_CHARS, "pattern": NO_NUL},
            {"type": "integer", "minimum": CLOUDEVENTS_INTEGER[0], "maximum": CLOUDEVENTS_INTEGER[1]},
            {"type": "boolean"},
        ],
        "description": "An extension attribute: a string, a 32-bit integer or a boolean.",
    }
    schema["propertyNames"] = {"pattern": ATTRIBUTE_NAME, "maxLength": 40}
    schema["maxProperties"] = len(CloudEvent.model_fields) + MAX_EXTENSIONS


class CloudEvent(BaseModel):
    """One event as it travels on Kafka: the CloudEvents attributes, our extensions and the data.

    Attributes this model does not name are extension attributes of other parties: kept as they came (in
    `model_extra`) and written out again with the event.
    """

    model_config = ConfigDict(frozen=True, extra="allow", json_schema_extra=_extension_attributes)

    specversion: Literal["1.0"] = Field(description="CloudEvents version; always 1.0.")
    id: str = Field(
        pattern=NO_NUL,
        min_length=1,
        max_length=limits.MAX_ID_CHARS,
        description="Unique per source; a redelivery keeps it.",
    )
    source: str = Field(
        pattern=NO_NUL,
        min_length=1,
        max_length=limits.MAX_SOURCE_CHARS,
        description="URI-reference of the publishing system, e.g. /hod/saksbehandling.",
    )
    type: str = Field(
        pattern=EVENT_TYPE_PATTERN,
        max_length=limits.MAX_TYPE_CHARS,
        description="Reverse-DNS event type with major version: no.levehelelivet.<aggregate>.<event>.v<major>.",
    )
    time: Moment = Field(description="When the fact happened, RFC 3339 with offset.")
    subject: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=limits.MAX_SUBJECT_CHARS,
        description="The aggregate the event is about.",
    )
    datacontenttype: Literal["application/json"] = Field(
        default="application/json",
        description="application/json (a charset parameter, if sent, must be utf-8 and is dropped on reading).",
    )
    dataschema: str = Field(
        max_length=limits.MAX_DATASCHEMA_CHARS,
        pattern=NO_NUL,
        description="URI of the JSON Schema of `data`; must match the type.",
    )
    correlationid: str = Field(
        pattern=NO_NUL,
        min_length=1,
        max_length=limits.MAX_ID_CHARS,
        description="Ties together every event of one collaboration step.",
    )
    causationid: str | None = Field(
        default=None,
        pattern=NO_NUL,
        max_length=limits.MAX_ID_CHARS,
        description="Id of the event that caused this one.",
    )
    traceparent: str | None = Field(
        default=None,
        pattern=TRACEPARENT_PATTERN,
        max_length=55,
        description="W3C trace context of the publishing operation.",
    )
    partitionkey: str = Field(
        pattern=NO_NUL,
        min_length=1,
        max_length=limits.MAX_PARTITION_KEY_CHARS,
        description="Kafka key: '<agreement>/<region|national>'; the record's key must be the same.",
    )
    dssematerial: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/_-]+=*$",
        max_length=4000,
        description="CloudEvents verifiability extension: Base64 of the DSSE envelope with the publisher's Ed25519 "
        "signature over every other attribute and the data (see docs/security.md).",
    )
    data: dict[str, Any] = Field(description="The event's data, described by `dataschema`.")

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    def kafka_headers(self) -> dict[str, str]:
        return kafka_headers(self.traceparent)


def kafka_headers(traceparent: str | None) -> dict[str, str]:
    """Structured mode, as the CloudEvents Kafka binding has it: everything is in the value, and the content type
    says so. No `ce_*` headers, which would make a reader take the record for binary mode; only the trace context,
    so that tracing works without reading the value."""
    headers = {"content-type": CONTENT_TYPE}
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


_TYPE: Final = re.compile(EVENT_TYPE_PATTERN)
_TRACEPARENT: Final = re.compile(TRACEPARENT_PATTERN)
_MOMENT: Final = TypeAdapter(Moment)


def _moment_json(moment: datetime) -> bytes:
    """`time` as the model writes it."""
    return _moment_json_at(moment, moment.utcoffset())


@functools.lru_cache(maxsize=64)
def _moment_json_at(moment: datetime, offset: timedelta | None) -> bytes:
    """Cached: the events of one cause share their `time`. The offset is part of the key, as the same instant in
    another zone is an equal datetime but another text."""
    return _MOMENT.dump_json(_MOMENT.validate_python(moment))


def _text(name: str, value: str, most: int, least: int = 0) -> str:
    """A string attribute as a JSON member, with its leading comma, after the model's checks of it."""
    if not least <= len(value) <= most or "\0" in value:
        raise ValueError(f"{name}: {least} to {most} characters without NUL expected, got {value[:80]!r}")
    return f',"{name}":{encode_basestring(value)}'


def unsigned_value(
    *,
    id: str,
    source: str,
    type: str,
    time: datetime,
    subject: str | None,
    dataschema: str,
    correlationid: str,
    causationid: str | None,
    traceparent: str | None,
    partitionkey: str,
    data: bytes,
) -> bytes:
    """`CloudEvent(...).to_bytes()` of an event without `dssematerial` or other parties' extensions, with `data`
    given as its JSON bytes, without building the model: a service derives several events per record, and the
    model's validation and serialisation were a tenth of the meetings service's event loop. The attributes are
    checked as the model checks them (ValueError otherwise), and a unit test compares the bytes with the model's."""
    if _TYPE.fullmatch(type) is None or len(type) > limits.MAX_TYPE_CHARS:
        raise ValueError(f"type: not an event type of this system: {type[:80]!r}")
    if traceparent is not None and _TRACEPARENT.fullmatch(traceparent) is None:
        raise ValueError(f"traceparent: not W3C trace context: {traceparent[:80]!r}")
    head = (
        '{"specversion":"1.0"'
        + _text("id", id, limits.MAX_ID_CHARS, 1)
        + _text("source", source, limits.MAX_SOURCE_CHARS, 1)
        + f',"type":"{type}","time":'
    ).encode() + _moment_json(time)
    rest = (
        (_text("subject", subject, limits.MAX_SUBJECT_CHARS) if subject is not None else "")
        + ',"datacontenttype":"application/json"'
        + _text("dataschema", dataschema, limits.MAX_DATASCHEMA_CHARS)
        + _text("correlationid", correlationid, limits.MAX_ID_CHARS, 1)
        + (_text("causationid", causationid, limits.MAX_ID_CHARS) if causationid is not None else "")
        + (f',"traceparent":"{traceparent}"' if traceparent is not None else "")
        + _text("partitionkey", partitionkey, limits.MAX_PARTITION_KEY_CHARS, 1)
        + ',"data":'
    )
    return head + rest.encode() + data + b"}"


def new_event_id() -> str:
    return str(uuid.uuid4())


_URL_NAMESPACE: Final = uuid.NAMESPACE_URL.bytes


def stable_event_id(*parts: str) -> str:
    """A derived event's id from its cause and business key, so a re-derivation yields the same id.

    It is `str(uuid.uuid5(uuid.NAMESPACE_URL, "lhl:" + "|".join(parts)))`, written out (a unit test compares the
    two): a service derives several per event, and the UUID object made it three times as slow."""
    name = ("lhl:" + "|".join(parts)).encode()
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def isoformat(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
