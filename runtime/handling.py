"""What a handler gets of the pipeline, and how a record of a batch ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from pydantic import ValidationError

from contracts.envelope import CloudEvent
from contracts.reference import ReferenceDataError
from contracts.rejections import Reason, Rejected
from runtime.admission import Admitted
from runtime.db import Connection
from runtime.dead_lettering import Note
from runtime.inbox import Claimed, Outcome
from runtime.outbox import Emitter, Outgoing
from runtime.records import Incoming
from runtime.writes import Deferred, Writes

T = TypeVar("T")


@dataclass
class HandlerContext:
    """What a handler gets: the open transaction, the event, the clock's now, and a way to emit."""

    conn: Connection
    event: CloudEvent
    now: datetime
    emitter: Emitter
    log: structlog.stdlib.BoundLogger
    writes: Writes
    """For statements the handler reads nothing back from: sent with the batch's others (runtime.writes)."""
    shared: BatchReads
    """For what the batch's handlers read once and share (`BatchReads`)."""


class BatchReads:
    """What every record of a batch reads alike, read once per pass and shared by its handlers: the notifications
    service's subscriptions took three round trips and a tenth of its time per record. Only for what no handler
    changes: a change committed by another transaction during the batch is seen from the next batch on.

    A handler may also read ahead what all the pass's events need (`events`), when what it reads for one record is
    not what another record of the pass writes, or it keeps what it read up to date itself
    (services.meetings.read_ahead)."""

    def __init__(self, events: Sequence[tuple[CloudEvent, Any]] = ()) -> None:
        self._read: dict[str, object] = {}
        self.events = events
        """The pass's admitted events and their data, in the batch's order; none in a pass with savepoints, where a
        record rolled back alone would leave wrong what was read ahead for the others."""

    async def once(self, name: str, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s result, read by the first handler of the pass that asks for `name`."""
        if name not in self._read:
            self._read[name] = await read()
        return cast(T, self._read[name])


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
Observe = Callable[[str, str | None, str, str | None, float], None]
"""Called after each record's transaction committed: (topic, event type, outcome, dead-letter reason, seconds from
the start of its handling to its batch's commit)."""


@dataclass(frozen=True)
class Ended:
    """How one record of a batch ended, and the log line that says so once the batch's transaction committed."""

    outcome: Outcome
    event_type: str | None
    reason: str | None
    note: Note


def silent() -> None:
    """The note of a record that ends without a log line."""


class NeedsSavepoints(Exception):
    """A record failed in a pass without savepoints: the pass is rolled back and the batch taken again with them."""

    def __init__(self, out_of_tries: Incoming | None = None) -> None:
        super().__init__()
        self.out_of_tries = out_of_tries
        """A record whose infrastructure errors used up its tries: the next pass parks it, counting no more."""


@dataclass
class Pass:
    """One pass over a batch in one transaction: with a savepoint per record or without, and what it came to."""

    savepoints: bool
    in_hand: Incoming
    counted: BaseException | None = None
    """An infrastructure error whose try was already counted for the record in hand."""
    out_of_tries: Incoming | None = None
    """A record an earlier pass found out of tries (see NeedsSavepoints)."""
    admitted: Sequence[Admitted] = ()
    """Each record's verdict (runtime.admission), in the batch's order, worked out once before any pass."""
    ended: list[tuple[Incoming, Ended, float]] = field(default_factory=list)
    rows: list[Outgoing] = field(default_factory=list)
    """The events the batch's handlers emitted, written with one round trip before the batch commits."""
    shared: BatchReads = field(init=False)
    """What the pass's handlers read once (`BatchReads`)."""
    deferred: list[Deferred] = field(default_factory=list)
    """The write-only statements of the batch's handlers, sent before the batch commits (runtime.writes)."""
    claimed: Claimed | None = None
    """Where the records are whose events the pass claimed in the inbox with one round trip (`inbox.claim_batch`),
    before handling any; None when each record claims its own as it is handled."""

    def __post_init__(self) -> None:
        events = [] if self.savepoints else [one for one in self.admitted if not isinstance(one, Exception)]
        self.shared = BatchReads(events)

    def batch_claims(self, records: Sequence[Incoming]) -> list[tuple[Incoming, str, str, str]] | None:
        """The inbox claims of the batch's admitted events, to make in one round trip, when that is the same as
        making them one at a time: in a pass without savepoints (whose every event is processed or a duplicate, or
        the pass is rolled back), with no replay, and with no refused record that claims an event's own identity
        (one refused only after it verified: `Rejected.event`); others claim under their Kafka coordinates."""
        if self.savepoints or len(records) < 2:
            return None
        claims = []
        for record, admitted in zip(records, self.admitted, strict=True):
            if record.is_replay or (isinstance(admitted, Rejected) and admitted.event is not None):
                return None
            if not isinstance(admitted, Exception):
                event = admitted[0]
                claims.append((record, event.source, event.id, event.type))
        return claims


def rejection_of(error: Exception, log: structlog.stdlib.BoundLogger) -> Rejected:
    """Why a handler's failure dead-letters its event."""
    match error:
        case Rejected():
            return error
        case ReferenceDataError() | ValidationError():
            return Rejected(Reason.INVALID_REFERENCE, str(error))
    # A bug must not stall the partition: park the event with the error for replay after a fix.
    log.exception("handler_failed", error_class=type(error).__name__)
    return Rejected(Reason.HANDLER_ERROR, described(error))


def described(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
