"""What a record must keep before its value is read, counted in bytes; a refusal names the limit and the place."""

from __future__ import annotations

from contracts import limits
from contracts.rejections import Reason
from runtime.boundary import refusal
from runtime.records import Incoming


def record(
    value: bytes = b"{}", key: bytes | None = b"k", headers: tuple[tuple[str, bytes | None], ...] = ()
) -> Incoming:
    return Incoming("lhl.ingress.meetings.v1", 0, 7, key, value, headers)


def refused(incoming: Incoming) -> str | None:
    found = refusal(incoming)
    if found is None:
        return None
    assert found.reason is Reason.INVALID_RECORD
    return found.message


def test_a_record_within_every_limit_passes_and_a_null_header_value_is_no_fault() -> None:
    assert refused(record(headers=(("content-type", b"application/cloudevents+json"), ("x-empty", None)))) is None


def test_a_record_larger_than_an_event_may_be_is_refused_with_its_size() -> None:
    message = refused(record(value=b"x" * limits.MAX_RECORD_BYTES))
    assert message == (
        f"the record takes {limits.MAX_RECORD_BYTES + 1} bytes (value, key and headers), more than the "
        f"{limits.MAX_RECORD_BYTES} an event may take"
    )


def test_a_key_too_long_is_refused_in_bytes() -> None:
    assert refused(record(key="æ".encode() * 513)) == "key: 1026 bytes, more than the 1024 a key may take"


def test_a_header_name_that_was_not_utf8_is_refused_with_its_bytes_shown() -> None:
    name = b"x-\xff".decode("utf-8", "surrogateescape")  # as the consumer's adapter hands it over
    assert refused(record(headers=((name, b"1"),))) == "headers[0] 'x-\\xff': the header name is not UTF-8"


def test_a_header_name_too_long_is_refused() -> None:
    message = refused(record(headers=(("h" * 257, b"1"),)))
    assert message is not None
    assert message.endswith("...': the name takes 257 bytes, more than 256")
