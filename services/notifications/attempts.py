"""What one delivery attempt can come to, and the pure rule for what follows it: delivered, retried, or failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.notifications import domain

# The database column is unbounded, but a chatty SMTP server or webhook must not fill the table or the events.
MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Sent:
    """The outcome of one attempt: delivered, or an error that is permanent or worth retrying."""

    ok: bool
    error: str | None = None
    permanent: bool = False


DELIVERED = Sent(ok=True)


def known_without_sending(
    *, accepted_before: bool, contact_point_removed: bool, channel: str, secret_name: str | None, secret: str | None
) -> Sent | None:
    """The outcome of an attempt that must not reach the channel, or None when the message is to be sent."""
    if accepted_before:
        return DELIVERED  # accepted before a crash kept it from being recorded: never send it twice
    if contact_point_removed:
        return Sent(ok=False, error="the contact point was removed before delivery", permanent=True)
    if channel == "webhook" and not secret:
        # An operator can set it and restart the service, so the delivery is retried meanwhile.
        return Sent(ok=False, error=f"{secret_name} is not set in the notifications service")
    return None


@dataclass(frozen=True)
class RetryPolicy:
    delays_seconds: Sequence[int]
    """Delay before each retry; the last one repeats."""
    max_attempts: int
    horizon_seconds: int
    """No retry is scheduled later than this after the first attempt."""


@dataclass(frozen=True)
class Delivered:
    attempts: int
    first_attempt_at: datetime
    delivered_at: datetime


@dataclass(frozen=True)
class Retry:
    attempts: int
    first_attempt_at: datetime
    error: str
    next_attempt_at: datetime


@dataclass(frozen=True)
class Failed:
    attempts: int
    first_attempt_at: datetime
    error: str
    permanent: bool
    """False when a transient error ran out of attempts or past the horizon: an operator's retry may help."""
    failed_at: datetime


Decision = Delivered | Retry | Failed


def after_attempt(
    sent: Sent, attempts_before: int, first_attempt_at: datetime | None, now: datetime, policy: RetryPolicy
) -> Decision:
    """What an attempt made at `now` comes to, given the attempts made before it and when the first was made."""
    attempts = attempts_before + 1
    first = first_attempt_at or now
    if sent.ok:
        return Delivered(attempts, first, now)
    error = (sent.error or "unknown error")[:MAX_ERROR_LENGTH]
    if not sent.permanent:
        next_at = domain.next_attempt_at(
            attempts,
            first,
            now,
            delays_seconds=policy.delays_seconds,
            max_attempts=policy.max_attempts,
            horizon_seconds=policy.horizon_seconds,
        )
        if next_at is not None:
            return Retry(attempts, first, error, next_at)
    return Failed(attempts, first, error, sent.permanent, now)
