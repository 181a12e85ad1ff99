"""A background loop sleeping on a Wakeup stops when cancelled, even in the tick its wakeup was set.

On Python 3.11, asyncio.wait_for swallowed exactly that cancellation, and a notifications delivery worker kept
looping after its stop, which hung a CI run.
"""

from __future__ import annotations

import asyncio

import pytest

from runtime.wakeup import Wakeup


async def sleep_on(wakeup: Wakeup, passes: list[int]) -> None:
    while True:
        passes.append(1)
        await wakeup.wait(10)


async def test_a_set_wakes_the_loop_before_its_interval() -> None:
    wakeup, passes = Wakeup(), list[int]()
    task = asyncio.create_task(sleep_on(wakeup, passes))
    await asyncio.sleep(0)
    wakeup.set()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(passes) == 2


@pytest.mark.parametrize("attempt", range(20))
async def test_a_cancel_right_after_a_set_stops_the_loop(attempt: int) -> None:
    wakeup: Wakeup = Wakeup()
    task = asyncio.create_task(sleep_on(wakeup, []))
    for _ in range(3):
        await asyncio.sleep(0)
    wakeup.set()
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1)
    assert task in done, "the loop swallowed its cancellation and kept running"
    assert task.cancelled()
