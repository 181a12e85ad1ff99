"""No record can stop a consumer: hypothesis sends bursts of hostile records (mutated events and raw bytes, keys,
headers, sizes, encodings, numbers, nesting, times) to the meetings ingress, each burst followed by a valid canary
on every partition it used, against the real broker and database.

Each canary must be processed by meetings and recorded by the audit within CANARY_SECONDS. Afterwards every record
must have ended in exactly one way (processed, or dead-lettered with a reason of the contract and a message, or a
duplicate or skipped as the service's metrics count them), and be in the audit log: nothing stalls, nothing is lost.

`LHL_FUZZ_EXAMPLES` sets the number of bursts (default 30, some 800 records in well under a minute); e.g.
`LHL_FUZZ_EXAMPLES=500` for a long run. The figures are printed at the end (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from hypothesis import given
from hypothesis import strategies as st

from contracts import topics
from contracts.keys import KeyRegistry
from contracts.rejections import Reason
from services.audit.domain import Received, entry_of
from tests.integration.hostile.harness import CANARY_SECONDS, Hostile, Sent, hostile_stack, letters_of, read_to_end
from tests.integration.hostile.mutations import EXAMPLES, Case, cases, fuzz_settings
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.signing import keys_for_tests

BURST = 40


@dataclass
class Tally:
    sent: list[tuple[Case, Sent]] = field(default_factory=list)
    canaries: int = 0
    refused: int = 0
    slowest_canary: float = 0.0


async def burst(stack: Hostile, batch: list[Case], tally: Tally) -> None:
    for case in batch:
        try:
            sent = await stack.send(case.value, key=case.key, headers=case.headers, partition=case.partition)
        except MessageSizeTooLargeError:
            tally.refused += 1  # larger than the broker takes: it never reaches a consumer
            continue
        tally.sent.append((case, sent))
    canaries = [(await stack.send_canary(partition))[0] for partition in sorted({case.partition for case in batch})]
    waited = await asyncio.gather(*(stack.canary_passes(canary) for canary in canaries))
    tally.slowest_canary = max(tally.slowest_canary, *waited)
    tally.canaries += len(canaries)


def run_examples(stack: Hostile, tally: Tally, loop: asyncio.AbstractEventLoop) -> None:
    """Hypothesis drives the examples from a worker thread; each burst runs on the test's event loop, where the
    services run, and the thread waits for it."""

    @fuzz_settings
    @given(st.lists(cases(), min_size=BURST // 2, max_size=BURST))
    def bursts(batch: list[Case]) -> None:
        asyncio.run_coroutine_threadsafe(burst(stack, batch, tally), loop).result()

    bursts()


def audit_key(stack: Hostile, case: Case, sent: Sent) -> tuple[str, str, str]:
    received = Received(stack.topic, sent.partition, sent.offset, case.value, case.headers)
    registry = KeyRegistry.load([keys_for_tests().registry])
    return entry_of(received, stack.bus.topic(topics.DEAD_LETTER), registry, datetime.now(UTC)).key


def passed_by(stack: Hostile) -> int:
    """Records of the ingress that the meetings service counted as duplicates or skipped."""
    total = 0.0
    for metric in stack.meetings.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "lhl_events_total" and sample.labels["outcome"] in ("duplicate", "skipped"):
                total += sample.value
    return int(total)


# Hypothesis generates in a worker thread while the services run on the event loop, and mistakes what they do with
# the random module for the strategies' doing.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_no_record_stops_a_consumer_or_is_lost(infra: Infra, run_id: str, bus: Bus, tmp_path: Path) -> None:
    tally = Tally()
    async with hostile_stack(infra, run_id, bus, tmp_path) as stack:
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(run_examples, stack, tally, asyncio.get_running_loop())
        await stack.outbox_drained()
        letters = letters_of(await read_to_end(bus, topics.DEAD_LETTER), stack.topic)
        processed = {at for at, outcome in (await stack.inbox_outcomes()).items() if outcome == "processed"}
        audited = await stack.audited()
        audited_keys = await stack.audited_keys()
        passed = passed_by(stack)
        seconds = asyncio.get_running_loop().time() - started

    ended: Counter[str] = Counter()
    unaccounted: list[Case] = []
    for case, sent in tally.sent:
        at = (sent.partition, sent.offset)
        assert not (at in letters and at in processed), f"processed and dead-lettered: {case}"
        if at in letters:
            letter = letters[at]
            assert letter.reason in {r.value for r in Reason}, case
            assert letter.message, case
            ended[letter.reason] += 1
        elif at in processed:
            ended["processed"] += 1
        else:
            unaccounted.append(case)
    lost = [
        case
        for case, sent in tally.sent
        if (sent.partition, sent.offset) not in audited and audit_key(stack, case, sent) not in audited_keys
    ]
    print(  # the fuzz figures, shown with `pytest -s`
        f"\nfuzz: {len(tally.sent)} records in {EXAMPLES} bursts and {tally.canaries} canaries in {seconds:.0f} s"
        f" ({tally.refused} more refused by the broker);"
        f" outcomes {dict(sorted(ended.items()))}, duplicate or skipped {len(unaccounted)};"
        f" stalls 0 (slowest canary {tally.slowest_canary:.2f} s of {CANARY_SECONDS:.0f} s); lost {len(lost)}"
    )
    assert lost == []
    assert len(unaccounted) == passed
    bugs = [letter.message for letter in letters.values() if letter.reason == Reason.HANDLER_ERROR]
    assert bugs == [], "a hostile record must be rejected for what is wrong with it, not by a bug"
