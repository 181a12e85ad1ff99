"""The injectable clock: real time in production, manual in tests, fast in the demo."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from runtime.settings import RuntimeSettings


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """Time moves only when a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class ScaledClock:
    """Starts at a given instant and runs `speed` times faster than real time, for demos."""

    def __init__(self, start: datetime, speed: float) -> None:
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._real_start = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._real_start) * self._speed)


def clock_from_settings(settings: RuntimeSettings) -> Clock:
    """The system clock, or (`LHL_CLOCK=fast`, for demos) one that runs faster from a given start."""
    if settings.clock == "fast":
        start = settings.clock_start or SystemClock().now()
        return ScaledClock(start, settings.clock_speed)
    return SystemClock()
