"""What the meetings domain decides, as plain frozen values the applier carries out in the handler's transaction.

A decision never touches the database or the broker itself, so every rule can be tested by comparing values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from contracts.events.base import EventData
from contracts.events.meetings import ActionItemCompleted
from services.meetings.state import Meeting, OpenItem


@dataclass(frozen=True)
class Emit:
    """An event to write to the outbox; the business key makes its id stable for the same cause."""

    data: EventData
    agreement_id: str
    region: str | None
    subject: str
    business_key: str


@dataclass(frozen=True)
class Arm:
    """A durable timer to schedule, or to move if it is still pending."""

    key: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class CancelTimers:
    """Cancel the pending timers whose key starts with `prefix` (only those due from `due_from`, if given)."""

    prefix: str
    due_from: datetime | None = None


@dataclass(frozen=True)
class SaveMeeting:
    meeting: Meeting


@dataclass(frozen=True)
class AddActionItem:
    item: OpenItem


@dataclass(frozen=True)
class CloseActionItem:
    item: OpenItem
    completed: ActionItemCompleted
    late: bool


@dataclass(frozen=True)
class MarkOverdue:
    item: OpenItem


@dataclass(frozen=True)
class RememberCompletion:
    """A completion whose item is not assigned yet, kept until the held meeting assigns it."""

    completed: ActionItemCompleted


@dataclass(frozen=True)
class ForgetEarlyCompletion:
    agreement_id: str
    action_item_id: str


@dataclass(frozen=True)
class RecordLevelHeld:
    agreement_id: str
    region: str | None
    held_on: date


@dataclass(frozen=True)
class RecordTermination:
    agreement_id: str
    terminated_from: date
    given_by: str
    learnt_from: str


Change = (
    SaveMeeting
    | AddActionItem
    | CloseActionItem
    | MarkOverdue
    | RememberCompletion
    | ForgetEarlyCompletion
    | RecordLevelHeld
    | RecordTermination
)
"""A change to the service's own tables (its write side and the read model the CLI lists)."""


@dataclass(frozen=True)
class Note:
    """A log line worth keeping: what was decided not to do, and why."""

    event: str
    level: Literal["info", "warning"] = "info"
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Everything one event or timer causes. The applier carries it out in this order: changes, cancellations,
    timers to arm, events. Cancelling before arming matters: a re-armed watch shares its key prefix with the one
    it replaces."""

    changes: tuple[Change, ...] = ()
    cancel: tuple[CancelTimers, ...] = ()
    arm: tuple[Arm, ...] = ()
    emit: tuple[Emit, ...] = ()
    notes: tuple[Note, ...] = ()

    def __add__(self, other: Decision) -> Decision:
        return Decision(
            self.changes + other.changes,
            self.cancel + other.cancel,
            self.arm + other.arm,
            self.emit + other.emit,
            self.notes + other.notes,
        )

    @property
    def events(self) -> list[EventData]:
        return [e.data for e in self.emit]


NOTHING = Decision()
