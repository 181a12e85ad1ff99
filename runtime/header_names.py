"""Records whose header names are not UTF-8 reach the services instead of stopping their consumer.

Kafka header names are bytes on the wire, but aiokafka's record reader decodes each one as strict UTF-8 while it
unpacks a fetched batch, inside `getmany`. One such name anywhere made every fetch of that partition raise
UnicodeDecodeError before any record reached a handler: meetings stalled on the partition, and the audit, which
reads every topic with one consumer, stopped altogether.

`install()` swaps the record container aiokafka's fetcher builds for one that reads each batch with aiokafka's own
(fast) reader and, only for a batch that reader refuses, reads it again with aiokafka's pure-Python reader, whose
header names are then decoded with `surrogateescape`: the name is a str, as aiokafka promises, and
`raw_name(name)` gives back its exact bytes, so the boundary can dead-letter the record and say what the name was.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, SupportsIndex, overload

import aiokafka.consumer.fetcher as fetcher
from aiokafka.record.default_records import _DefaultRecordBatchPy
from aiokafka.record.memory_records import MemoryRecords

_LOG_OVERHEAD = 12  # the batch's base offset (int64) and length (int32), before the length counts
_MAGIC_AT = 16  # base offset, length and partition leader epoch (int32) come before the magic byte


def raw_name(name: str) -> bytes:
    """The header name's bytes as they were on the wire (a name read by the fallback carries them escaped)."""
    return name.encode("utf-8", "surrogateescape")


def is_utf8_name(name: str) -> bool:
    """Whether the name was valid UTF-8 on the wire: only the fallback's escapes are lone surrogates."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(name: str) -> str:
    """The name for a message or a log line: valid UTF-8 as it is, other bytes as \\xNN escapes."""
    return raw_name(name).decode("utf-8", "backslashreplace")


class _EscapingBuffer(bytearray):
    """The pure-Python reader decodes a header name with `buffer[start:end].decode("utf-8")`; slices of this buffer
    decode with surrogateescape instead, and keys and values (read with `bytes(...)`) are unchanged."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> bytearray: ...
    def __getitem__(self, index: SupportsIndex | slice) -> int | bytearray:
        item = super().__getitem__(index)
        return _EscapingBuffer(item) if isinstance(item, bytearray) else item

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return super().decode(encoding, "surrogateescape")


def _tolerant_records(raw: bytes) -> list[Any]:
    batch: Any = _DefaultRecordBatchPy(raw)
    batch._maybe_uncompress()
    batch._buffer = _EscapingBuffer(batch._buffer)
    return list(batch)


class _Batch:
    """One batch as aiokafka's fetcher uses it; only its records are read differently when they must be."""

    def __init__(self, batch: Any, raw: bytes) -> None:
        self._batch = batch
        self._raw = raw
        self._records: Iterator[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def __iter__(self) -> _Batch:
        return self

    def __next__(self) -> Any:
        if self._records is None:
            try:
                records = list(self._batch)
            except UnicodeDecodeError:
                if self._raw[_MAGIC_AT] < 2:  # the old formats have no headers: the error is something else
                    raise
                records = _tolerant_records(self._raw)
            self._records = iter(records)
        return next(self._records)


class TolerantMemoryRecords:
    """aiokafka's MemoryRecords, batch by batch, with the raw bytes of each batch kept for a second reading."""

    def __init__(self, data: bytes) -> None:
        self._records: Any = MemoryRecords(data)
        self._data = data
        self._pos = 0

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        batch = self._records.next_batch()
        if batch is None:
            return None
        # The same slicing as aiokafka's reader, which has just checked that this batch is whole.
        (length,) = struct.unpack_from(">i", self._data, self._pos + 8)
        end = self._pos + _LOG_OVERHEAD + length
        raw = bytes(self._data[self._pos : end])
        self._pos = end
        return _Batch(batch, raw)

    def size_in_bytes(self) -> int:
        return len(self._data)


def install() -> None:
    """Make every aiokafka consumer in this process tolerate header names that are not UTF-8; idempotent."""
    if not hasattr(fetcher, "MemoryRecords") or not hasattr(_DefaultRecordBatchPy, "_maybe_uncompress"):
        # An aiokafka that reads records elsewhere would leave the services exposed again: say so at start.
        raise RuntimeError("aiokafka changed how its fetcher reads records; runtime/header_names.py needs a look")
    fetcher.MemoryRecords = TolerantMemoryRecords
