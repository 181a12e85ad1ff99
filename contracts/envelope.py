"""The CloudEvents 1.0 envelope in structured mode, with this system's extensions."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

CONTENT_TYPE: Final = "application/cloudevents+json"
DATA_CONTENT_TYPE: Final = "application/json"
SPEC_VERSION: Final = "1.0"
MAX_ID_LENGTH: Final = 200
MAX_SOURCE_LENGTH: Final = 500
_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class CloudEvent(BaseModel):
    """One event as it travels on Kafka: the CloudEvents attributes, our extensions and the data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = Field(description="CloudEvents version; always 1.0.")
    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH, description="Unique per source; a redelivery keeps it.")
    source: str = Field(
        min_length=1,
        max_length=MAX_SOURCE_LENGTH,
        description="URI-reference of the publishing system, e.g. /hod/saksbehandling.",
    )
    type: str = Field(
        pattern=r"^no\.levehelelivet\.[a-z0-9-]+\.[a-z0-9-]+\.v[1-9][0-9]*$",
        description="Reverse-DNS event type with major version: no.levehelelivet.<aggregate>.<event>.v<major>.",
    )
    time: AwareDatetime = Field(description="When the fact happened, RFC 3339 with offset.")
    subject: str | None = Field(default=None, max_length=500, description="The aggregate the event is about.")
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Always application/json."
    )
    dataschema: str = Field(description="URI of the JSON Schema of `data`; must match the type.")
    correlationid: str = Field(
        min_length=1, max_length=200, description="Ties together every event of one collaboration step."
    )
    causationid: str | None = Field(default=None, max_length=200, description="Id of the event that caused this one.")
    traceparent: str | None = Field(default=None, description="W3C trace context of the publishing operation.")
    partitionkey: str = Field(min_length=1, max_length=300, description="Kafka key: '<agreement>/<region|national>'.")
    data: dict[str, Any] = Field(description="The event's data, described by `dataschema`.")

    @field_validator("traceparent")
    @classmethod
    def _traceparent_is_w3c(cls, value: str | None) -> str | None:
        if value is not None and not _TRACEPARENT.match(value):
            raise ValueError("traceparent must be W3C trace context: 00-<32 hex>-<16 hex>-<2 hex>")
        return value

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    def kafka_headers(self) -> dict[str, str]:
        """Structured mode carries everything in the body; these headers let routers and operators peek."""
        headers = {
            "content-type": CONTENT_TYPE,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "correlationid": self.correlationid,
        }
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers


def new_event_id() -> str:
    return str(uuid.uuid4())


def stable_event_id(*parts: str) -> str:
    """A derived event's id from its cause and business key, so a re-derivation yields the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lhl:" + "|".join(parts)))


def isoformat(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
