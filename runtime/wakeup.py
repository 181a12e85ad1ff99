"""The nudge a background loop sleeps on: it wakes when set, or after its poll interval, whichever comes first.

It waits with asyncio.timeout rather than asyncio.wait_for: on Python 3.11, wait_for can swallow a cancellation
that races with the event being set, and the cancelled loop then runs forever, holding up every stop that awaits
it (seen as a hung integration test).
"""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Sleep until set or for `seconds`; a set that comes while the caller works is kept for the next wait."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()
