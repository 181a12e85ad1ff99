"""Recomputes the chain record by record and holds it against the signed checkpoints; names the first bad record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from services.audit import domain
from services.audit.chain import GENESIS_HASH, AuditRecord
from services.audit.checkpoints import Checkpoint
from services.audit.signatures import SignatureAudit


@dataclass(frozen=True)
class Finding:
    """Why the log cannot be trusted, starting at record `seq` (None when no record is to blame)."""

    seq: int | None
    message: str


def label(record: AuditRecord) -> str:
    e = record.entry
    return f"record {record.seq} ({e.kind} {e.event_source} {e.event_id})"


def _short(digest: str) -> str:
    return digest[:16]


class ChainVerifier:
    """Feed records in chain order, then finish; the first finding ends the check."""

    def __init__(
        self, checkpoints: Sequence[tuple[str, Checkpoint]] = (), signatures: SignatureAudit | None = None
    ) -> None:
        self.signatures = signatures
        self.count = 0
        self.head_hash = GENESIS_HASH
        self._previous = "the start of the log"
        self._checkpoints: dict[int, list[tuple[str, Checkpoint]]] = defaultdict(list)
        for name, checkpoint in checkpoints:
            self._checkpoints[checkpoint.record_count].append((name, checkpoint))

    def feed(self, record: AuditRecord) -> Finding | None:
        expected = self.count + 1
        if record.seq > expected:
            return Finding(
                expected,
                f"record {expected} is missing: after {self._previous} comes {label(record)}; a record was deleted",
            )
        if record.seq < expected:
            return Finding(record.seq, f"{label(record)} comes after {self._previous}: records are out of order")
        if record.prev_hash != self.head_hash:
            return Finding(
                record.seq,
                f"{label(record)} does not follow {self._previous}: its prev_hash {_short(record.prev_hash)} "
                f"is not that record's hash {_short(self.head_hash)}; a record was inserted, deleted or reordered "
                "here",
            )
        computed = record.computed_hash()
        if computed != record.hash:
            return Finding(
                record.seq,
                f"{label(record)} was edited: its content hashes to {_short(computed)}, "
                f"but the stored hash is {_short(record.hash)}",
            )
        envelope = domain.derived_envelope(record.entry)
        data = envelope.get("data") if envelope is not None else None
        if record.entry.envelope != envelope or record.entry.data != data:
            return Finding(
                record.seq,
                f"{label(record)} was edited: its envelope or data differ from the payload it was recorded with",
            )
        if self.signatures is not None and (problem := self.signatures.feed(record)):
            return Finding(record.seq, problem)
        for name, checkpoint in self._checkpoints.get(record.seq, ()):
            if checkpoint.head_hash != record.hash:
                return Finding(
                    record.seq,
                    f"{label(record)} does not match checkpoint {name}, which signed head hash "
                    f"{_short(checkpoint.head_hash)}: the log was rewritten at or before this record",
                )
        self.count = record.seq
        self.head_hash = record.hash
        self._previous = label(record)
        return None

    def finish(self) -> Finding | None:
        """After the last record: a checkpoint that covers more records than remain means the log was cut."""
        longer = [(name, cp) for count, found in self._checkpoints.items() if count > self.count for name, cp in found]
        if not longer:
            return None
        name, checkpoint = max(longer, key=lambda item: item[1].record_count)
        return Finding(
            self.count + 1,
            f"the log was truncated: checkpoint {name} signed {checkpoint.record_count} records "
            f"(head {_short(checkpoint.head_hash)}), but the log ends at record {self.count}; "
            f"record {self.count + 1} onwards is missing",
        )
