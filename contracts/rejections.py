"""Why an event can be rejected: stable reason codes that travel in the dead-letter headers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final


class Reason(StrEnum):
    INVALID_RECORD = "invalid_record"
    NOT_JSON = "not_json"
    NOT_CLOUDEVENT = "not_cloudevent"
    UNAUTHENTICATED = "unauthenticated"
    UNKNOWN_TYPE = "unknown_type"
    WRONG_DATASCHEMA = "wrong_dataschema"
    INVALID_DATA = "invalid_data"
    WRONG_KEY = "wrong_key"
    INVALID_REFERENCE = "invalid_reference"
    UNAUTHORISED_SOURCE = "unauthorised_source"
    RULE_VIOLATED = "rule_violated"
    HANDLER_ERROR = "handler_error"


DESCRIPTIONS: Final[dict[Reason, str]] = {
    Reason.INVALID_RECORD: "The Kafka record itself breaks a limit before its value is read: too large, a key or "
    "header too long, too many headers, or a header name that is not UTF-8; the message says which.",
    Reason.NOT_JSON: "The record's value is not JSON (or is empty).",
    Reason.NOT_CLOUDEVENT: "The record is not a CloudEvents 1.0 event in JSON: neither structured mode (content-type "
    "application/cloudevents+json) nor binary mode (ce_ headers) as the Kafka protocol binding defines them.",
    Reason.UNAUTHENTICATED: "The event is not signed, or not by a key registered for its source (or, for a derived "
    "type, its service) and valid now, or a signed attribute or the data changed after signing; the message says "
    "which.",
    Reason.UNKNOWN_TYPE: "The event type is not accepted on the topic it was published to.",
    Reason.WRONG_DATASCHEMA: "The dataschema attribute does not name the schema of the event type.",
    Reason.INVALID_DATA: "The event does not match its committed JSON Schema (the envelope's or the type's data); "
    "the message lists each field path with what was expected and what came.",
    Reason.WRONG_KEY: "The record's Kafka key is not the event's partitionkey, so it would be ordered with the wrong "
    "region's events.",
    Reason.INVALID_REFERENCE: "A code (agreement, office, county, organisation, focus area) is unknown or not "
    "valid on the event's date.",
    Reason.UNAUTHORISED_SOURCE: "The event's source is not registered for the organisation it speaks for.",
    Reason.RULE_VIOLATED: "The event breaks a rule of the collaboration (e.g. cancelling a held meeting).",
    Reason.HANDLER_ERROR: "The service failed on a valid event; it is parked for replay after a fix.",
}


class Rejected(Exception):
    """The event cannot be accepted; the message says what was wrong and where."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.event: Any = None
        """The event as read, when it was readable and only a check against the reference data refused it."""
