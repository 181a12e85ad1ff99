"""One example event: the data of a contract model and the envelope attributes a real publisher would set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from contracts import catalog
from contracts.envelope import stable_event_id
from contracts.events.base import EventData

AGREEMENT: Final = "leve-hele-livet-2019-2023"
OSLO_WINTER: Final = timezone(timedelta(hours=1))
OSLO_SUMMER: Final = timezone(timedelta(hours=2))


@dataclass(frozen=True)
class Example:
    """One event as a real publisher would send it."""

    data: EventData
    source: str
    time: datetime
    subject: str
    correlation: str
    """Names the collaboration step; examples of the same step share its correlation id."""
    caused_by: type[EventData] | None = None
    """The example this one was derived from; its id becomes the causation id."""
    partition_region: str | None = None
    """Region of the partition key when the data has none (a notification is keyed like the event it is about)."""

    @property
    def type_name(self) -> str:
        return catalog.of(type(self.data)).name


def example_event_id(model: type[EventData]) -> str:
    """A stable id per example, so the generated page is the same on every run."""
    return stable_event_id("contracts-page-example", catalog.of(model).name)
