"""Records no well-behaved client would send: header names that are not UTF-8, null header values, any key bytes.

aiokafka's producer takes header names as str and encodes them itself, so a name that is not UTF-8 cannot be
asked for directly; its pure-Python record builder encodes names with `str.encode`, which `RawName` answers with
the exact bytes wanted. The builder is swapped only while `send_record` sends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import aiokafka.producer.message_accumulator as accumulator
import aiokafka.producer.producer as producer_module
from aiokafka import AIOKafkaProducer
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy


class RawName(str):
    """A header name sent as exactly these bytes."""

    raw: bytes

    def __new__(cls, raw: bytes) -> RawName:
        name = super().__new__(cls, raw.decode("utf-8", "surrogateescape"))
        name.raw = raw
        return name

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


@contextlib.contextmanager
def _python_record_builder() -> Iterator[None]:
    saved = (accumulator.DefaultRecordBatchBuilder, producer_module.DefaultRecordBatchBuilder)
    accumulator.DefaultRecordBatchBuilder = _DefaultRecordBatchBuilderPy
    producer_module.DefaultRecordBatchBuilder = _DefaultRecordBatchBuilderPy
    try:
        yield
    finally:
        accumulator.DefaultRecordBatchBuilder, producer_module.DefaultRecordBatchBuilder = saved


async def send_record(
    bootstrap_servers: str,
    topic: str,
    value: bytes | None,
    *,
    key: bytes | None = None,
    headers: Sequence[tuple[str, bytes | None]] = (),
    partition: int | None = None,
) -> Any:
    """Send one record as given and return its metadata (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, max_request_size=4_000_000)
    with _python_record_builder():
        await producer.start()
        try:
            return await producer.send_and_wait(topic, value, key=key, headers=list(headers), partition=partition)
        finally:
            await producer.stop()
