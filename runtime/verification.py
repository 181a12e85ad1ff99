"""The pipeline's first step after parsing: is the event signed, by whom it claims, and unchanged?

Kept apart from parsing so that an event is verified before it is deduplicated or handled: a forged event must
not claim the inbox slot of the genuine event it imitates, so it is dead-lettered under its Kafka coordinates.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from contracts import ed25519, keys
from contracts.keys import KeyRegistry
from contracts.rejections import Reason, Rejected
from contracts.signing import Unauthenticated, Verified, read, verify
from runtime.clock import Clock
from runtime.logging import get_logger
from runtime.records import Incoming

RELOAD_CHECK_SECONDS = 1.0


class TrustedKeys:
    """The committed and installation registries, re-read when a file changes (a key rotated in or out).

    A changed registry that cannot be read (a hand edit that broke its JSON, a key that is not a key) leaves the
    keys read before in force, with an error logged once per change: refusing every event as signed by no known
    key would dead-letter the whole stream until someone noticed. The first reading has nothing to fall back on
    and raises, which `installed` does at a service's start."""

    def __init__(self, files: Sequence[Path], recheck_seconds: float = RELOAD_CHECK_SECONDS) -> None:
        self._files = tuple(files)
        self._recheck_seconds = recheck_seconds
        self._checked_at = float("-inf")
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None  # None: never read
        self._registry: KeyRegistry | None = None
        self._reading = threading.Lock()

    @classmethod
    def installed(cls, registry: Path) -> TrustedKeys:
        """The service's registries, read once now, so that one that cannot be read stops the start and says why."""
        trusted = cls([keys.COMMITTED, registry])
        trusted.current()
        return trusted

    def current(self) -> KeyRegistry:
        """Called from the verification threads at once: one reads the files while the others wait for what it
        read. (Marked as checked before reading, the first read let the other threads verify a service's first
        batch against the empty registry, and dead-letter valid events as signed by keys nobody registered.)"""
        if self._registry is not None and time.monotonic() - self._checked_at < self._recheck_seconds:
            return self._registry
        with self._reading:
            now = time.monotonic()
            if self._registry is None or now - self._checked_at >= self._recheck_seconds:
                stamp = tuple(_stamp(f) for f in self._files)
                if stamp != self._stamp:
                    self._registry = self._read()
                    self._stamp = stamp  # a change that cannot be read is logged once, not at every check
                self._checked_at = now
        assert self._registry is not None
        return self._registry

    def _read(self) -> KeyRegistry:
        """The registries as the files now say, or the keys read before (and an error logged) if they cannot be
        read; raises if there is nothing read before."""
        try:
            return KeyRegistry.load(self._files)
        except (OSError, ValueError) as error:  # a pydantic ValidationError and a JSONDecodeError are ValueErrors
            if self._registry is None:
                raise ValueError(f"the key registry cannot be read: {error}") from error
            get_logger(component="keys").error(
                "key_registry_unreadable",
                files=[str(f) for f in self._files],
                error=str(error),
                keys_kept=len(self._registry.keys),
            )
            return self._registry


class EventVerifier:
    """Verifies records against the trusted keys at the clock's now; refusals are `unauthenticated` rejections."""

    def __init__(self, trusted: TrustedKeys, clock: Clock) -> None:
        self._trusted = trusted
        self._clock = clock

    def check(self, record: Incoming, signature_check: ed25519.Check = ed25519.verifies) -> Verified:
        """The record's verification, its signatures judged by `signature_check` (`ed25519.Check`)."""
        try:
            view = read(record.value or b"", record.headers, record.key)
            return verify(view, *self.at_now(), signature_check)
        except Unauthenticated as error:
            raise Rejected(Reason.UNAUTHENTICATED, str(error)) from error

    def at_now(self) -> tuple[KeyRegistry, datetime]:
        """The trusted keys and the moment `check` would verify a record against now: what a check process is sent."""
        return self._trusted.current(), self._clock.now()

    def by(self, signature_check: ed25519.Check) -> Callable[[Incoming], Verified]:
        """`check` with its signatures judged by `signature_check`."""
        return functools.partial(self.check, signature_check=signature_check)


def _stamp(file: Path) -> tuple[int, int] | None:
    try:
        found = file.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size
