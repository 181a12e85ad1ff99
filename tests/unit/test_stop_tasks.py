"""A stop ends its background tasks and the broker within its bound, even when something swallowed a cancellation.

aiosmtplib waits for each SMTP reply with asyncio.wait_for. On Python 3.11 a cancellation that arrives in the
tick the reply does is lost there, and the notifications delivery worker looped on after its stop: a CI run
hung for 480 s in a test's teardown.
"""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from faststream.kafka import KafkaBroker

from runtime import kafka_admin
from runtime.logging import get_logger
from runtime.tasks import stop_tasks


async def loop_with_a_lost_cancel(reply_and_cancel: asyncio.Event, passes: list[int]) -> None:
    """Each pass waits for a 'reply' with wait_for; the first reply arrives in the same tick as the cancel."""
    loop = asyncio.get_running_loop()
    while True:
        passes.append(1)
        reply: asyncio.Future[str] = loop.create_future()

        def answer(reply: asyncio.Future[str] = reply) -> None:
            if not reply.done():
                reply.set_result("250 OK")

        if len(passes) == 1:
            reply_and_cancel.set()
            loop.call_soon(answer)
        else:
            loop.call_later(0.01, answer)
        await asyncio.wait_for(reply, timeout=5)


async def test_a_task_that_lost_its_first_cancellation_is_cancelled_again_until_it_ends() -> None:
    reply_and_cancel, passes = asyncio.Event(), list[int]()
    task = asyncio.create_task(loop_with_a_lost_cancel(reply_and_cancel, passes), name="worker")
    await reply_and_cancel.wait()
    stuck = await stop_tasks([task], limit_seconds=5)
    assert stuck == []
    assert task.cancelled()
    assert len(passes) > 1, "the first cancellation was not lost, so this test shows nothing"


async def test_a_task_that_never_ends_is_given_up_by_name_when_the_limit_passes() -> None:
    released = asyncio.Event()

    async def refuses_to_stop() -> None:
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(refuses_to_stop(), name="stubborn")
    await asyncio.sleep(0)
    stuck = await stop_tasks([task], limit_seconds=0.3)
    assert stuck == ["stubborn"]
    assert not task.done()
    released.set()
    await task


async def test_the_grace_lets_a_task_finish_its_work_without_being_cancelled() -> None:
    finished: list[str] = []

    async def finishes_its_pass() -> None:
        await asyncio.sleep(0.05)
        finished.append("pass")

    task = asyncio.create_task(finishes_its_pass(), name="relay")
    assert await stop_tasks([task], limit_seconds=1, grace_seconds=1) == []
    assert finished == ["pass"]
    assert not task.cancelled()


async def test_a_task_that_failed_before_the_stop_is_done_and_its_error_retrieved() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails(), name="failed")
    await asyncio.sleep(0)
    assert await stop_tasks([task], limit_seconds=1) == []
    assert isinstance(task.exception(), RuntimeError)


class BrokerThatStoppedAnswering:
    def __init__(self) -> None:
        self.stop_called = False

    async def stop(self) -> None:
        self.stop_called = True
        await asyncio.Event().wait()


async def test_a_broker_that_stopped_answering_does_not_hold_up_the_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_admin, "BROKER_STOP_TIMEOUT_SECONDS", 0.2)
    broker = BrokerThatStoppedAnswering()
    async with asyncio.timeout(5):
        await kafka_admin.stop_broker(cast(KafkaBroker, broker), get_logger(component="test"))
    assert broker.stop_called
