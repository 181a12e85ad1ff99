"""Latency at a fixed offered rate: from an event's publication to the audit's record of it, or of what it caused."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.environment import Namespace, ServiceProcess
from benchmarks.workload import Signed, paced, producer

WARM_UP = 20
"""Events offered before the clock starts, so a service's first-record costs (connections, caches) are not counted."""


@dataclass(frozen=True)
class Latency:
    rate: float
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms_per_event: dict[str, float] = field(default_factory=dict)
    """Each service's CPU time (its processes' together) per timed event, from the end of the warm-up until
    every timed event was recorded: what that rate costs it."""
    maintenance: int = 0
    """Autovacuum's vacuums and analyzes of the database's tables over the same span. Each takes
    the server's CPU for up to a few seconds, which on two cores shows in the tail: a run's p99 is easier to read
    knowing whether one fell inside it."""


async def recorded_at(space: Namespace, correlations: Sequence[str], event_type: str) -> dict[str, float]:
    rows = await space.fetch(
        "audit",
        "SELECT correlation_id, recorded_at FROM {schema}.audit_log WHERE event_type = $1 AND correlation_id = ANY($2)",
        event_type,
        list(correlations),
    )
    return {r["correlation_id"]: r["recorded_at"].timestamp() for r in rows}


async def maintenance_so_far(space: Namespace) -> int:
    """Autovacuum's runs (vacuums and analyzes) over every table of the database since the server started."""
    rows = await space.fetch(
        "audit", "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint AS runs FROM pg_stat_all_tables"
    )
    runs: int = rows[0]["runs"]
    return runs


async def offer(
    space: Namespace,
    topic: str,
    records: Sequence[Signed],
    rate: float,
    recorded_type: str,
    timeout: float,
    processes: Sequence[ServiceProcess] = (),
) -> Latency:
    """Offer the warm-up, wait for its records, then offer the rest at `rate` and wait for every record.

    The audit's `recorded_at` comes from the same machine's clock as the publish time, so the difference is the
    latency an observer of the audit trail sees. Each event has its own correlation id, which what it causes keeps.
    """
    warm, timed = records[:WARM_UP], records[WARM_UP:]
    sender = producer(space.operator)
    await sender.start()
    try:
        await paced(sender, space.prefix + topic, warm, rate)
        await _until_recorded(space, warm, recorded_type, timeout)
        before = [p.cpu_seconds() for p in processes]
        maintained = await maintenance_so_far(space)
        published = await paced(sender, space.prefix + topic, timed, rate)
    finally:
        await sender.stop()
    seen = await _until_recorded(space, timed, recorded_type, timeout)
    maintained = await maintenance_so_far(space) - maintained
    spent: dict[str, float] = {}
    for process, start in zip(processes, before, strict=True):
        spent[process.service] = spent.get(process.service, 0.0) + process.cpu_seconds() - start
    latencies = sorted(1000 * (seen[r.event.correlationid] - published[r.event.id]) for r in timed)
    return Latency(
        rate,
        len(latencies),
        statistics.median(latencies),
        latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        latencies[-1],
        {service: 1000 * seconds / len(timed) for service, seconds in spent.items()},
        maintained,
    )


async def _until_recorded(
    space: Namespace, records: Sequence[Signed], recorded_type: str, timeout: float
) -> dict[str, float]:
    correlations = [r.event.correlationid for r in records]
    deadline = time.perf_counter() + timeout
    while True:
        # Until the audit has migrated its schema (it starts with the warm-up), there is no log to read.
        seen = await recorded_at(space, correlations, recorded_type) if await space.count("audit") else {}
        if len(seen) >= len(records):
            return seen
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the audit recorded {len(seen)} of {len(records)} {recorded_type} in {timeout:.0f} s")
        await asyncio.sleep(0.2)
