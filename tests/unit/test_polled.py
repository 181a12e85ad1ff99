"""What a handler gets of a poll: its records and consumer, with nothing that keeps the poll alive after it."""

from __future__ import annotations

import gc
import weakref
from typing import Any, cast

from aiokafka import ConsumerRecord
from faststream.kafka.message import ConsumerProtocol, KafkaMessage

from runtime.records import Polled, polled


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
