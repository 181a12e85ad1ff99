"""Re-verifies, offline, the signature of every recorded event: the trail proves who said what, not only that
nothing changed since a checkpoint.

A record's hash can be recomputed by whoever rewrites the database; an event's signature can only be made by the
holder of its publisher's key. So even when the whole chain after the last checkpoint was re-hashed, an event whose
data was edited no longer verifies, and is named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.keys import KeyRegistry
from contracts.signing import Unauthenticated, read, verify
from services.audit.chain import AuditRecord


def _label(record: AuditRecord) -> str:
    e = record.entry
    return f"record {record.seq} ({e.kind} {e.event_source} {e.event_id})"


@dataclass
class SignatureAudit:
    """Feed records in chain order; the first record whose signature contradicts what was recorded is a finding."""

    keys: KeyRegistry
    signed: int = 0
    unauthenticated: int = 0
    before_signing: int = 0
    signers: set[str] = field(default_factory=set)

    def feed(self, record: AuditRecord) -> str | None:
        e = record.entry
        if e.kind not in ("event", "unauthenticated"):
            return None
        headers = [(name, value.encode()) for name, value in e.headers if value is not None]
        view = read(e.payload, headers, e.message_key)
        if view.attributes.get("dssematerial") != e.dssematerial:
            return f"{_label(record)} was edited: its dssematerial column differs from the payload's"
        try:
            key: str | None = verify(view, self.keys, record.recorded_at).key.key_id
            why = ""
        except Unauthenticated as error:
            key, why = None, str(error)
        if e.kind == "unauthenticated":
            if key is not None:
                return f"{_label(record)} was recorded as failing verification, but verifies now with key {key}"
            self.unauthenticated += 1
            return None
        if e.signed_by_key is None and e.dssematerial is None and not (self.signed or self.unauthenticated):
            self.before_signing += 1  # recorded before events were signed; it proves integrity only
            return None
        if key is None:
            return (
                f"{_label(record)} was recorded as signed by key {e.signed_by_key}, but its signature does not verify "
                f"now: {why}. The record was edited after it was recorded (re-hashing the chain does not help), or "
                "the key registry no longer vouches for that key at the time it was recorded"
            )
        if key != e.signed_by_key:
            return f"{_label(record)} says it was signed by key {e.signed_by_key}, but it verifies with key {key}"
        self.signed += 1
        self.signers.add(key)
        return None

    def summary(self) -> str:
        parts = [f"{self.signed} events' signatures verified ({len(self.signers)} keys)"]
        if self.unauthenticated:
            parts.append(f"{self.unauthenticated} recorded as failing verification (forgeries, proving nothing)")
        if self.before_signing:
            parts.append(f"{self.before_signing} unsigned, recorded before events were signed (integrity only)")
        return ", ".join(parts)
