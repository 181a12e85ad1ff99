"""`make bench` runs end to end at a tiny size: services in their own processes, the table printed, nothing left over.

The figures themselves are never asserted: on a shared machine they say more about the neighbours than the code.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

from tests.support.infra import Infra


async def test_the_benchmark_measures_two_audit_instances_and_both_latencies_at_a_tiny_size(infra: Infra) -> None:
    # Two processes of each service in one group: the rows count what both handled, CPU and RSS summed.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks",
        *("--only", "audit", "--events", "300", "--latency-seconds", "1", "--audit-rate", "50", "--held-rate", "10"),
        *("--instances", "2", "--warm-up", "100"),
        env={**os.environ},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(180):
        output, _ = await process.communicate()
    printed = output.decode(errors="replace")
    assert process.returncode == 0, printed
    assert "machine:  " in printed
    assert "each service as 2 processes in one consumer group" in printed
    assert "warm-up:  100 held meetings caught up on by the meetings service first, not measured" in printed
    assert "| audit ×2 | action-item.assigned.v1 |" in printed
    # Every event offered at the fixed rate was found in the audit's log: 50 plain ones, 10 held meetings' records.
    assert "| ingress event → audit record | 50 | 50 |" in printed
    assert "| held meeting → audit record of meeting.recorded | 10 | 10 |" in printed
    # What each rate cost each service, its two processes together, and how often autovacuum ran meanwhile.
    assert re.search(r"\| ingress event → audit record \|.* \| audit \d+\.\d\d ms \| \d+ \|$", printed, re.M), printed
    assert re.search(r"\| held meeting → .* \| meetings \d+\.\d\d ms, audit \d+\.\d\d ms \| \d+ \|$", printed, re.M), (
        printed
    )
