"""Every size limit of the contract in one place, with the bytes each one stands for.

A limit that JSON Schema can state is stated there in characters (``maxLength``); where what it protects is counted
in bytes (a PostgreSQL btree index row, a Kafka record), the character limit is chosen so that the worst case in
UTF-8 (four bytes a character) still fits, and the module checks that sum when it is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

UTF8_MAX_BYTES_PER_CHAR: Final = 4

BTREE_MAX_KEY_BYTES: Final = 2704
"""PostgreSQL's limit on one btree index row (8 kB pages): a longer unique key is refused at INSERT."""

MAX_ID_CHARS: Final = 200
"""CloudEvents `id`, and ids derived from it (`causationid`, `correlationid`)."""
MAX_SOURCE_CHARS: Final = 400
"""CloudEvents `source`: a URI-reference naming the publishing system."""
MAX_TYPE_CHARS: Final = 200
MAX_SUBJECT_CHARS: Final = 500
MAX_DATASCHEMA_CHARS: Final = 200
MAX_PARTITION_KEY_CHARS: Final = 300

MAX_RECORD_BYTES: Final = 1_000_000
"""A whole record (value, key and headers). Kafka's default `message.max.bytes` is 1 MiB plus a little; a dead letter
adds headers to a record, so what we accept must leave room for them."""
MAX_KEY_BYTES: Final = 1024
"""A Kafka key; ours are '<agreement>/<region>', far shorter."""
MAX_HEADERS: Final = 64
MAX_HEADER_NAME_BYTES: Final = 256
MAX_HEADER_VALUE_BYTES: Final = 8192

DEAD_LETTER_KEPT_VALUE_BYTES: Final = 65_536
"""What a dead letter keeps of a value that would not fit in one record beside the dead-letter headers: the first
bytes, marked as truncated; the whole value stays on the original topic and in the audit log."""
DEAD_LETTER_MESSAGE_CHARS: Final = 2000
"""The rejection message in a dead letter's headers (a message may quote what was wrong)."""
DEAD_LETTER_HEADER_VALUE_CHARS: Final = 1000
"""Any other dead-letter header that repeats what the publisher sent (source, id, type, correlation id)."""

MAX_DEPTH: Final = 64
"""JSON nesting; no event of the contract nests more than a handful of levels."""
MAX_NUMBER_CHARS: Final = 40
"""Characters of one JSON number literal; every number the contract allows is far shorter, and Python's int
conversion refuses more than 4300 digits with an error nothing expects."""
MAX_COUNT: Final = 1_000_000
"""The largest count any event carries (municipalities reached, meetings held, ...)."""
MAX_TEXT_CHARS: Final = 4000
"""Free text (titles, decisions, reasons)."""
MAX_ITEMS: Final = 500
"""Entries in one list of an event (participants, agenda items, decisions, action items, ...)."""


def record_bytes(key: bytes | None, value: bytes | None, headers: Sequence[tuple[bytes, bytes | None]]) -> int:
    """What a record weighs against MAX_RECORD_BYTES: key, value, and every header's name and value."""
    return len(key or b"") + len(value or b"") + sum(len(name) + len(value or b"") for name, value in headers)


_IDENTITY_BYTES = (MAX_ID_CHARS + MAX_SOURCE_CHARS) * UTF8_MAX_BYTES_PER_CHAR
if _IDENTITY_BYTES >= BTREE_MAX_KEY_BYTES - 64:  # 64 bytes of row header and padding to spare
    raise AssertionError(f"source+id may take {_IDENTITY_BYTES} bytes, more than a btree index row holds")
