"""Records no well-behaved client would send: header names that are not UTF-8, null header values, any key bytes.

aiokafka's producer takes header names as str and encodes them itself, so a name that is not UTF-8 cannot be
asked for directly. Its pure-Python record builder encodes names with `str.encode`, which `RawName` answers with
the exact bytes wanted; `RawProducer` uses that builder for its own batches only (other producers in the process
keep aiokafka's compiled one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy

from runtime.kafka_access import KafkaAccess


class RawName(str):
    """A header name sent as exactly these bytes."""

    raw: bytes

    def __new__(cls, raw: bytes) -> RawName:
        name = super().__new__(cls, raw.decode("utf-8", "surrogateescape"))
        name.raw = raw
        return name

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


class RawProducer(AIOKafkaProducer):  # type: ignore[misc]
    """A producer (no idempotence, no compression) whose records may carry RawName headers."""

    def __init__(self, kafka: KafkaAccess) -> None:
        super().__init__(**kafka.options(), max_request_size=4_000_000, linger_ms=5)
        accumulator: Any = self._message_accumulator
        compiled = accumulator.create_builder

        def python_builder(*args: Any, **kwargs: Any) -> Any:
            builder = compiled(*args, **kwargs)
            builder._builder = _DefaultRecordBatchBuilderPy(
                2, 0, is_transactional=0, producer_id=-1, producer_epoch=-1, base_sequence=0, batch_size=16384
            )
            return builder

        accumulator.create_builder = python_builder

    def _serialize(self, key: Any, value: Any, headers: Any) -> tuple[Any, Any]:
        # The compiled size estimate accepts only exact str header names.
        size = _DefaultRecordBatchBuilderPy.estimate_size_in_bytes(key, value, headers)
        if size > self._max_request_size:
            raise MessageSizeTooLargeError(f"{size} bytes")
        return key, value

    async def send_record(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes | None]] = (),
        partition: int | None = None,
    ) -> Any:
        """Send one record as given and return its metadata (partition, offset)."""
        return await self.send_and_wait(topic, value, key=key, headers=list(headers), partition=partition)
