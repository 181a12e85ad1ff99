"""The pipeline's first step after parsing: is the event signed, by whom it claims, and unchanged?

Kept apart from parsing so that an event is verified before it is deduplicated or handled: a forged event must
not claim the inbox slot of the genuine event it imitates, so it is dead-lettered under its Kafka coordinates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from contracts import keys
from contracts.keys import KeyRegistry
from contracts.rejections import Reason, Rejected
from contracts.signing import Unauthenticated, Verified, read, verify
from runtime.clock import Clock
from runtime.records import Incoming

RELOAD_CHECK_SECONDS = 1.0


class TrustedKeys:
    """The committed and installation registries, re-read when a file changes (a key rotated in or out)."""

    def __init__(self, files: Sequence[Path], recheck_seconds: float = RELOAD_CHECK_SECONDS) -> None:
        self._files = tuple(files)
        self._recheck_seconds = recheck_seconds
        self._checked_at = float("-inf")
        self._stamp: tuple[tuple[int, int] | None, ...] = ()
        self._registry = KeyRegistry(())
        self._reading = threading.Lock()

    @classmethod
    def installed(cls, registry: Path) -> TrustedKeys:
        return cls([keys.COMMITTED, registry])

    def current(self) -> KeyRegistry:
        """Called from the verification threads at once: one reads the files while the others wait for what it
        read. (Marked as checked before reading, the first read let the other threads verify a service's first
        batch against the empty registry, and dead-letter valid events as signed by keys nobody registered.)"""
        if time.monotonic() - self._checked_at < self._recheck_seconds:
            return self._registry
        with self._reading:
            now = time.monotonic()
            if now - self._checked_at >= self._recheck_seconds:
                stamp = tuple(_stamp(f) for f in self._files)
                if stamp != self._stamp:
                    self._registry = KeyRegistry.load(self._files)
                    self._stamp = stamp
                self._checked_at = now
        return self._registry


class EventVerifier:
    """Verifies records against the trusted keys at the clock's now; refusals are `unauthenticated` rejections."""

    def __init__(self, trusted: TrustedKeys, clock: Clock) -> None:
        self._trusted = trusted
        self._clock = clock

    def check(self, record: Incoming) -> Verified:
        try:
            view = read(record.value or b"", record.headers, record.key)
            return verify(view, self._trusted.current(), self._clock.now())
        except Unauthenticated as error:
            raise Rejected(Reason.UNAUTHENTICATED, str(error)) from error


def _stamp(file: Path) -> tuple[int, int] | None:
    try:
        found = file.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size
