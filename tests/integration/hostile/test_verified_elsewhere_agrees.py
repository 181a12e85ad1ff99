"""A check process judges a hostile record exactly as the service's verifier does in place: hypothesis draws the fuzz
test's records (mutated events and raw bytes, keys, headers, binary mode, signed as their publisher would or not),
a real check process verifies each batch whole (`CheckProcesses.verify`, what the pipeline sends a large batch to),
and every yes or no must be the verifier's own. A no is always judged again in the service, so the case that
matters is a yes the verifier would not give; a verifier that raises instead of refusing fails the test too.

`LHL_FUZZ_EXAMPLES` sets the number of batches, as for the fuzz test (default 30).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from contracts import topics
from runtime.check_processes import CheckProcesses
from runtime.clock import ManualClock
from runtime.records import Incoming
from runtime.verification import EventVerifier, TrustedKeys
from tests.integration.hostile.mutations import Case, cases, fuzz_settings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.kafka import cloud_event
from tests.support.signing import accepts, keys_for_tests

_EVENT = keys_for_tests().sign(cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT))
GENUINE = Case("genuine", _EVENT.to_bytes(), _EVENT.partitionkey.encode(), (), 0)


def verified_in_place(verifier: EventVerifier, case: Case) -> bool:
    return accepts(verifier, Incoming(topics.MEETINGS_INGRESS, case.partition, 0, case.key, case.value, case.headers))


def test_a_check_process_answers_every_hostile_record_as_the_verifier_does_in_place() -> None:
    verifier = EventVerifier(TrustedKeys.installed(keys_for_tests().registry), ManualClock(datetime.now(UTC)))
    tally = {True: 0, False: 0}
    with asyncio.Runner() as runner:
        processes = CheckProcesses(count=1, restart_pause=0)
        assert runner.run(processes.start())

        async def answered(batch: list[Case]) -> list[bool]:
            registry, at = verifier.at_now()
            records = [(case.key, case.value, case.headers) for case in batch]
            return await processes.answered(processes.verify(records, registry, at))

        @fuzz_settings
        @given(st.lists(cases(), min_size=1, max_size=40))
        def agrees(hostile: list[Case]) -> None:
            batch = [*hostile, GENUINE]  # a yes in every batch, whatever hypothesis drew
            expected = [verified_in_place(verifier, case) for case in batch]
            assert runner.run(answered(batch)) == expected, [case.mutation for case in batch]
            for verdict in expected[:-1]:
                tally[verdict] += 1

        try:
            agrees()
        finally:
            runner.run(processes.close())
    assert tally[False] > 0
    print(f"\nhostile records verified in a check process: {tally[True]} yes, {tally[False]} no, as in place")
