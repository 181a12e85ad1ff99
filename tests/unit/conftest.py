"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime.check_processes import CheckProcesses


@pytest.fixture
async def processes() -> AsyncIterator[CheckProcesses]:
    """Two check processes, started, restarted at once after a failure, closed after the test."""
    started = CheckProcesses(count=2, restart_pause=0)
    assert await started.start()
    yield started
    await started.close()
