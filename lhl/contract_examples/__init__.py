"""Realistic example events for the contracts page, built from the models so a contract change breaks them loudly."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Final

from contracts import catalog
from contracts.envelope import CloudEvent, stable_event_id
from contracts.events.base import EventData
from contracts.topics import partition_key
from lhl.contract_examples import evaluations, meetings, notifications
from lhl.contract_examples.example import AGREEMENT, Example, example_event_id


def _by_type_name() -> dict[str, Example]:
    found: dict[str, Example] = {}
    for example in (*meetings.examples(), *evaluations.examples(), *notifications.examples()):
        if example.type_name in found:
            raise ValueError(f"two examples of {example.type_name}; keep one per event type")
        found[example.type_name] = example
    return found


# Built at import on purpose: a contract change that invalidates an example fails here, not in a reader's hands.
EXAMPLE_EVENTS: Final[Mapping[str, Example]] = _by_type_name()
EXAMPLES: Final[Mapping[str, EventData]] = {name: example.data for name, example in EXAMPLE_EVENTS.items()}


def missing_examples() -> list[str]:
    """Event types of the catalogue that have no example yet."""
    return [kind.name for kind in catalog.CONTRACT_TYPES if kind.name not in EXAMPLE_EVENTS]


def envelope(type_name: str) -> CloudEvent:
    """The example as the complete record value a publisher sends: the CloudEvent around the data."""
    example = EXAMPLE_EVENTS[type_name]
    kind = catalog.BY_NAME[type_name]
    data = example.data
    correlation = stable_event_id("contracts-page-correlation", example.correlation)
    trace = uuid.uuid5(uuid.NAMESPACE_URL, f"lhl:contracts-page-trace|{example.correlation}").hex
    span = uuid.uuid5(uuid.NAMESPACE_URL, f"lhl:contracts-page-span|{type_name}").hex[:16]
    return CloudEvent(
        specversion="1.0",
        id=example_event_id(type(data)),
        source=example.source,
        type=kind.name,
        time=example.time,
        subject=example.subject,
        dataschema=kind.dataschema,
        correlationid=correlation,
        causationid=example_event_id(example.caused_by) if example.caused_by else None,
        traceparent=f"00-{trace}-{span}-01",
        partitionkey=partition_key(
            getattr(data, "agreement_id", AGREEMENT), getattr(data, "region", None) or example.partition_region
        ),
        data=data.model_dump(mode="json"),
    )


__all__ = ["AGREEMENT", "EXAMPLES", "EXAMPLE_EVENTS", "Example", "envelope", "missing_examples"]
