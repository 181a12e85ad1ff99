"""What a handler gets of a poll: its records and consumer, with nothing that keeps the poll alive after it, neither
the message nor what the poll's handling scheduled."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import weakref
from typing import Any, cast

from aiokafka import ConsumerRecord
from faststream.kafka.message import ConsumerProtocol, KafkaMessage

from runtime.records import Polled, apart, polled


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topic, partition, offset, 0, 0, None, b"{}", None, 0, 2, ())


async def test_a_poll_is_freed_once_handled_without_waiting_for_the_cycle_collector() -> None:
    records = (record("t", 0, 7), record("t", 1, 3))
    consumer = cast(ConsumerProtocol, object())  # only handed on
    message = KafkaMessage(records, b"", consumer=consumer)
    message.set_decoder(polled)
    gc.disable()  # only reference counting frees it now: a cycle through the decoded body would keep it
    try:
        poll = await message.decode()  # FastStream keeps the decoded body on the message
        assert isinstance(poll, Polled)
        gone = weakref.ref(message)
        del message
        assert gone() is None
    finally:
        gc.enable()
    assert poll.records == records
    assert poll.consumer is consumer


async def test_what_a_polls_handling_schedules_does_not_keep_the_poll_alive() -> None:
    """FastStream keeps the message in a context variable while its handler runs; a timer keeps a copy of the context
    it was scheduled in, and a cancelled timer stays in the loop's heap until purged, with that copy."""
    message: contextvars.ContextVar[object] = contextvars.ContextVar("message")
    before_any_poll = contextvars.copy_context()

    async def handle() -> None:  # as a connection's release cancels its idle timer and schedules a new one
        asyncio.get_running_loop().call_later(300, lambda: None).cancel()

    kept: list[bool] = []
    for handled_apart in (False, True):
        poll = Polled((), None)
        token = message.set(poll)
        await (apart(handle(), before_any_poll) if handled_apart else handle())
        message.reset(token)
        gone = weakref.ref(poll)
        del poll
        gc.collect()
        kept.append(gone() is not None)

    assert kept == [True, False]  # in FastStream's context the timer keeps the poll; handled apart it does not
