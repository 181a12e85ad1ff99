"""The limits a Kafka record must keep before its value is read: size, key, and headers (contracts/limits.py).

Checked first, on the bytes as they came, so that nothing oversized or unreadable reaches PostgreSQL or the
producer: a dead letter repeats the key and is written beside the record's identity, and it must itself fit in
one Kafka record.
"""

from __future__ import annotations

from contracts import limits
from contracts.rejections import Reason, Rejected
from runtime.header_names import is_utf8_name, raw_name, shown_name
from runtime.records import Incoming

_SHOWN_NAME_CHARS = 80


def size_of(record: Incoming) -> int:
    return limits.record_bytes(record.key, record.value, [(raw_name(n), v) for n, v in record.headers])


def refusal(record: Incoming) -> Rejected | None:
    """Why the record is refused before its value is read, or None when it keeps every limit."""
    size = size_of(record)
    if size > limits.MAX_RECORD_BYTES:
        return _refused(
            f"the record takes {size} bytes (value, key and headers), more than the {limits.MAX_RECORD_BYTES} an "
            "event may take"
        )
    if record.key is not None and len(record.key) > limits.MAX_KEY_BYTES:
        return _refused(f"key: {len(record.key)} bytes, more than the {limits.MAX_KEY_BYTES} a key may take")
    if len(record.headers) > limits.MAX_HEADERS:
        return _refused(f"headers: {len(record.headers)}, more than the {limits.MAX_HEADERS} a record may carry")
    for index, (name, value) in enumerate(record.headers):
        shown = shown_name(name)[:_SHOWN_NAME_CHARS]
        if not is_utf8_name(name):
            return _refused(f"headers[{index}] '{shown}': the header name is not UTF-8")
        if len(raw_name(name)) > limits.MAX_HEADER_NAME_BYTES:
            return _refused(
                f"headers[{index}] '{shown}...': the name takes {len(raw_name(name))} bytes, more than "
                f"{limits.MAX_HEADER_NAME_BYTES}"
            )
        if value is not None and len(value) > limits.MAX_HEADER_VALUE_BYTES:
            return _refused(
                f"headers[{index}] '{shown}': the value takes {len(value)} bytes, more than "
                f"{limits.MAX_HEADER_VALUE_BYTES}"
            )
    return None


def _refused(message: str) -> Rejected:
    return Rejected(Reason.INVALID_RECORD, message)
