"""A large batch's records verified whole in the check processes: the same yes or no, record by record, as the
service's verifier gives in place, against the keys it trusts at that moment, and a refusal's reason from the
verifier itself."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from contracts import topics
from contracts.envelope import CloudEvent
from contracts.keys import KeyRegistry
from contracts.rejections import Rejected
from runtime import check_child, parallel
from runtime.check_processes import CheckProcesses
from runtime.clock import ManualClock
from runtime.records import Incoming
from runtime.verification import EventVerifier, TrustedKeys
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.kafka import cloud_event
from tests.support.signing import accepts, keys_for_tests, with_signature_of

NOW = datetime(2021, 9, 2, tzinfo=UTC)
BEFORE_ANY_KEY = datetime(1999, 1, 1, tzinfo=UTC)


def _record(value: bytes | None, key: bytes | None, headers: tuple[tuple[str, bytes | None], ...] = ()) -> Incoming:
    return Incoming(topics.MEETINGS_INGRESS, 0, 0, key, value, headers)


def signed_event() -> CloudEvent:
    return keys_for_tests().sign(cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT))


def signed_record() -> Incoming:
    event = signed_event()
    return _record(event.to_bytes(), event.partitionkey.encode())


def kinds_of_records() -> list[Incoming]:
    genuine, other = (signed_event(), signed_event())
    key = genuine.partitionkey.encode()
    attributes = {f"ce_{n}": str(v).encode() for n, v in json.loads(genuine.to_bytes()).items() if n != "data"}
    attributes.pop("ce_dssematerial")
    attributes["content-type"] = attributes.pop("ce_datacontenttype")
    data = json.dumps(genuine.data).encode()
    binary = keys_for_tests().sign_binary(data, attributes, key)
    unsigned = genuine.model_copy(update={"dssematerial": None})
    as_another = keys_for_tests().sign(cloud_event(national_meeting_held(), source="/kommune-4601/leve-hele-livet"))
    claimed = as_another.model_copy(update={"source": NATIONAL_SECRETARIAT})
    return [
        _record(genuine.to_bytes(), key),
        _record(with_signature_of(genuine, other).to_bytes(), key),  # a signature over another event
        _record(genuine.to_bytes().replace(b'"held_on":"2021-09-01"', b'"held_on":"2021-09-02"'), key),  # changed
        _record(unsigned.to_bytes(), key),
        _record(claimed.to_bytes(), key),  # signed by another organisation's key
        _record(data, key, tuple(binary.items())),  # binary mode
        _record(data, key, tuple({**binary, "ce_subject": b"changed"}.items())),
        _record(data, key, (*binary.items(), ("x-empty", None))),  # a header without a value
        _record(b"{not json", key),
        _record(None, None),  # a tombstone
        _record("ø".encode("latin-1"), key),  # not UTF-8
        _record(b'{"data":' + b"[" * 200_000 + b"]" * 200_000 + b"}", key),  # nested past any recursion limit
        _record(b'{"a":' * 100_000, key),  # and cut off
    ]


EXPECTED = [True, False, False, False, False, True, False, True, False, False, False, False, False]


@pytest.fixture
def verifier() -> EventVerifier:
    return EventVerifier(TrustedKeys.installed(keys_for_tests().registry), ManualClock(NOW))


def in_place(verifier: EventVerifier, records: list[Incoming]) -> list[bool]:
    return [accepts(verifier, record) for record in records]


def as_sent(records: list[Incoming]) -> list[check_child.Record]:
    return [(r.key, r.value, r.headers) for r in records]


async def test_a_check_process_verifies_each_kind_of_record_as_the_verifier_does_in_place(
    processes: CheckProcesses, verifier: EventVerifier
) -> None:
    records = kinds_of_records()
    registry, at = verifier.at_now()

    answered = await processes.verify(as_sent(records), registry, at)

    assert answered == in_place(verifier, records) == EXPECTED


async def test_a_check_process_verifies_at_the_moment_and_against_the_keys_it_is_sent(
    processes: CheckProcesses, verifier: EventVerifier
) -> None:
    records = [signed_record() for _ in range(4)]
    trusted, at = verifier.at_now()
    secretariat = {k.key_id for k in trusted.for_source(NATIONAL_SECRETARIAT)}
    without = KeyRegistry(k for k in trusted.keys if k.key_id not in secretariat)

    answers = [
        await processes.verify(as_sent(records), registry, moment)
        for registry, moment in [(trusted, at), (trusted, BEFORE_ANY_KEY), (without, at), (trusted, at), (trusted, at)]
    ]

    assert answers == [[True] * 4, [False] * 4, [False] * 4, [True] * 4, [True] * 4]


def test_a_child_asked_about_a_registry_it_does_not_hold_answers_no_and_its_parent_verifies() -> None:
    records, registry = [signed_record()], KeyRegistry.load([keys_for_tests().registry])
    sent = check_child.records_request(NOW, registry, True, as_sent(records))
    not_sent = check_child.records_request(NOW, registry, False, as_sent(records))
    other = KeyRegistry([])

    assert check_child.answer(check_child.records_request(NOW, other, True, [])[4:]) == b""  # holds the empty one
    assert check_child.answer(not_sent[4:]) == b"\x00"
    assert check_child.answer(sent[4:]) == b"\x01"
    assert check_child.answer(not_sent[4:]) == b"\x01"  # held since
    assert len(sent) - len(not_sent) == len(registry.shared)


def test_a_registry_that_does_not_match_its_digest_is_not_held() -> None:
    records, registry = [signed_record()], KeyRegistry.load([keys_for_tests().registry])
    digest = registry.digest
    registry.__dict__["shared"] = registry.shared.replace(b'"sources":[', b'"sources":["/lhl/meetings",', 1)
    check_child.answer(check_child.records_request(NOW, KeyRegistry([]), True, [])[4:])

    assert registry.digest == digest
    assert check_child.answer(check_child.records_request(NOW, registry, True, as_sent(records))[4:]) == b"\x00"


def read_as_the_pipeline(record: Incoming, verify: Callable[[Incoming], object]) -> str:
    try:
        verify(record)
    except Rejected as refused:
        return f"{refused.reason}: {refused}"
    return f"verified {record.offset}"


async def test_a_large_batch_is_read_with_each_refusal_given_by_the_verifier_itself(
    processes: CheckProcesses, verifier: EventVerifier
) -> None:
    kinds = kinds_of_records()
    records = [kinds[n % len(kinds)] for n in range(parallel.SMALL_BATCH * 2)]
    expected = [read_as_the_pipeline(record, verifier.check) for record in records]

    read = await parallel.read_verifying_elsewhere(read_as_the_pipeline, records, verifier, processes)

    assert read == expected
    assert processes.sent == len(records)
    assert [line.startswith("verified") for line in read] == [EXPECTED[n % len(kinds)] for n in range(len(records))]
    assert all(line.startswith(("verified", "unauthenticated: ")) for line in read)


async def test_a_batch_whose_check_processes_died_is_verified_in_place_with_the_same_results(
    processes: CheckProcesses, verifier: EventVerifier
) -> None:
    kinds = kinds_of_records()
    records = [kinds[n % len(kinds)] for n in range(parallel.SMALL_BATCH + 10)]
    for pid in processes.pids:
        os.kill(pid, signal.SIGKILL)

    read = await parallel.read_verifying_elsewhere(read_as_the_pipeline, records, verifier, processes)

    assert read == [read_as_the_pipeline(record, verifier.check) for record in records]
