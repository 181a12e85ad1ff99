"""Each record that once stopped a consumer for good (issue 11), with a valid event sent behind it on the same
partition: the record is dead-lettered with a reason that says what was wrong (or, when nothing is, processed),
and the event behind it is processed by meetings and recorded by the audit within seconds."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from contracts import dead_letter_headers as dl
from contracts import limits
from contracts.envelope import CONTENT_TYPE
from tests.integration.hostile.harness import Hostile, Sent, hostile_stack
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.raw_records import RawName
from tests.support.signing import keys_for_tests

CE = [("content-type", CONTENT_TYPE.encode())]


def valid_event() -> dict[str, object]:
    event = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=NATIONAL_SECRETARIAT)
    parsed: dict[str, object] = json.loads(event.to_bytes())
    return parsed


def encoded(event: dict[str, object]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


KEY = b"leve-hele-livet-2019-2023/national"
"""The partitionkey of every event here: a record keyed otherwise is refused as wrong_key before anything else."""


def four_byte_text(length: int) -> str:
    """Characters of four bytes in UTF-8, random so that PostgreSQL cannot compress an index row under its limit."""
    return "".join(chr(0x1F300 + secrets.randbelow(0x600)) for _ in range(length))


async def then_the_canary_passes(stack: Hostile, sent: Sent) -> None:
    canary, _ = await stack.send_canary(sent.partition)
    await stack.canary_passes(canary)
    assert (sent.partition, sent.offset) in await stack.audited()


async def test_a_header_name_that_is_not_utf8_is_dead_lettered_and_stops_neither_meetings_nor_the_audit(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(encoded(valid_event()), key=KEY, headers=[*CE, (RawName(b"x-\xff\xfe"), b"1")])
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
    assert letter.reason == "invalid_record"
    assert letter.message == "headers[1] 'x-\\xff\\xfe': the header name is not UTF-8"


async def test_a_header_whose_value_is_null_is_not_lost(infra: Infra, run_id: str, bus: Bus, tmp_path: Path) -> None:
    event = valid_event()
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        signed = keys_for_tests().sign_bytes(
            encoded(event)
        )  # a valid event, signed by its source, as a publisher would
        sent = await stack.send(signed, key=KEY, headers=[*CE, ("x-empty", None)])
        await then_the_canary_passes(stack, sent)
        outcomes = await stack.inbox_outcomes()
        async with stack.audit.pool.acquire() as conn:
            headers = await conn.fetchval(
                "SELECT headers FROM audit_log WHERE event_id = $1 AND kind = 'event'", event["id"]
            )
    assert outcomes[(sent.partition, sent.offset)] == "processed"
    assert headers == [["content-type", CONTENT_TYPE], ["x-empty", None]]


async def test_nul_in_the_key_of_an_invalid_record_is_dead_lettered_with_the_key_byte_for_byte(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(b"not json", key=b"a\x00b", headers=CE)
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
    assert (letter.reason, letter.key, letter.value) == ("not_json", b"a\x00b", b"not json")


async def test_a_key_that_is_not_utf8_is_kept_byte_for_byte_in_the_dead_letter(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(b"[]", key=b"\xff\xfe\x00\xc3", headers=CE)
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
    assert (letter.reason, letter.key) == ("not_cloudevent", b"\xff\xfe\x00\xc3")


async def test_a_record_just_under_the_brokers_limit_is_dead_lettered_cut_and_the_outbox_goes_on(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    event = valid_event()
    event["data"] = {**event["data"], "padding": "x" * 1_040_000}  # type: ignore[dict-item]
    value = encoded(event)
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(value, key=KEY, headers=CE)
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
        # The canary's own derived events were published, behind the dead letter in the same outbox.
        set_aside = await stack.meetings.pool.fetchval("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL")
    assert letter.reason == "invalid_record"
    assert letter.message.startswith(f"the record takes {len(value) + len(CE[0][0]) + len(CE[0][1]) + 34} bytes")
    assert letter.value == value[: limits.DEAD_LETTER_KEPT_VALUE_BYTES]
    assert letter.headers[dl.VALUE_TRUNCATED] == str(len(value))
    assert letter.headers[dl.VALUE_SHA256] == hashlib.sha256(value).hexdigest()
    assert letter.key == KEY
    assert set_aside == 0


async def test_too_many_headers_or_a_header_value_too_long_is_dead_lettered_saying_which(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    many = [(f"x-{n}", b"") for n in range(limits.MAX_HEADERS + 1)]
    long = [("x-long", b"v" * (limits.MAX_HEADER_VALUE_BYTES + 1))]
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        first = await stack.send(encoded(valid_event()), key=KEY, headers=many)
        second = await stack.send(encoded(valid_event()), key=KEY, headers=long)
        await then_the_canary_passes(stack, second)
        letters = [await stack.dead_letter_of(first), await stack.dead_letter_of(second)]
    assert [(letter.reason, letter.message) for letter in letters] == [
        ("invalid_record", "headers: 65, more than the 64 a record may carry"),
        ("invalid_record", "headers[0] 'x-long': the value takes 8193 bytes, more than 8192"),
    ]


async def test_a_source_and_id_of_four_byte_characters_at_the_limits_stall_neither_meetings_nor_the_audit(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    at_limits = valid_event()
    at_limits["source"] = "/" + four_byte_text(limits.MAX_SOURCE_CHARS - 1)
    at_limits["id"] = four_byte_text(limits.MAX_ID_CHARS)
    beyond = {**at_limits, "source": "/" + four_byte_text(499), "id": four_byte_text(200)}
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        first = await stack.send(encoded(at_limits), key=KEY, headers=CE)
        second = await stack.send(encoded(beyond), key=KEY, headers=CE)
        await then_the_canary_passes(stack, second)
        letters = [await stack.dead_letter_of(first), await stack.dead_letter_of(second)]
        audited = await stack.audited()
    # Within the limits it is a well-formed event, but nobody's key signed it: refused as unauthenticated and named
    # by its Kafka coordinates, so its claimed identity never reaches the inbox; the audit keeps it all the same.
    assert [letter.reason for letter in letters] == ["unauthenticated", "invalid_data"]
    assert letters[1].message.startswith("source: ")
    assert letters[0].headers[dl.EVENT_ID] == f"{first.partition}:{first.offset}"
    assert {(first.partition, first.offset), (second.partition, second.offset)} <= audited


async def test_a_number_of_five_thousand_digits_is_dead_lettered_as_invalid_data(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    value = encoded(valid_event()).replace(b'"data": {', b'"data": {"huge": ' + b"9" * 5000 + b", ", 1)
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(value, key=KEY, headers=CE)
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
    assert letter.reason == "invalid_data"


async def test_a_time_in_year_one_before_utc_is_dead_lettered_as_invalid_data(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    event = valid_event()
    event["time"] = "0001-01-01T00:30:00+01:00"
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        sent = await stack.send(encoded(event), key=KEY, headers=CE)
        await then_the_canary_passes(stack, sent)
        letter = await stack.dead_letter_of(sent)
    assert letter.reason == "invalid_data"
