"""Sustained catch-up: a service started on a backlog, beside a raw aiokafka consumer reading the same topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.environment import Namespace, Progress, ServiceProcess

MILESTONES = (10_000, 100_000)
"""Events handled after which the service's RSS is read."""
POLL_SECONDS = 0.25
"""How often progress is read while the end is far: each reading is a count(*) on the service's own database."""
NEAR_POLL_SECONDS = 0.02
"""How often it is read once the rest should take less than `NEAR_SECONDS` at the rate so far. At 0.25 s alone the
end was seen up to a quarter of a second late, which took up to an eighth off a two-second run's rate (the audit's
10k backlog)."""
NEAR_SECONDS = 0.5


@dataclass(frozen=True)
class Rate:
    """A sustained rate: events after the first seen, over the time from the first seen to the last."""

    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class CatchUp:
    """What a service did on its backlog: its rate, CPU per event, and its RSS along the way."""

    rate: Rate
    cpu_ms_per_event: float
    rss_start_mib: float
    rss_end_mib: float
    rss_mib: dict[int, float] = field(default_factory=dict)
    elsewhere_ms_per_event: dict[str, float] = field(default_factory=dict)
    """CPU per event spent meanwhile by others that `watch` was given: PostgreSQL, the broker, the whole machine."""
    machine_busy: float | None = None
    """The share of the machine's CPU time, over all its cores, that was busy meanwhile."""
    publishing_seconds: float = 0.0
    """How long after the last record was handled its outbox still held derived events to publish: part of the
    catch-up, whose end is the last derived event published."""
    loop_thread: tuple[float, float] | None = None
    """The shares of the catch-up's time the service's event loop's thread ran, and waited, ready, for a core (the
    mean over its instances); None where the system does not say. Together near one, the loop's thread sets the
    pace: it was never idle, and only less CPU per event on it, or fewer other runnable threads, makes it faster."""


async def raw_rate(space: Namespace, topic: str, count: int) -> Rate:
    """The ceiling: a plain aiokafka consumer, under the service's own principal, that only reads the records."""
    settings = space.operator
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic(topic), p) for p in range(space.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        asked, seen, first_at, first_batch = time.perf_counter(), 0, 0.0, 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            got = sum(len(records) for records in batch.values())
            if got and not first_at:
                first_at, first_batch = time.perf_counter(), got
            seen += got
        done = time.perf_counter()
    finally:
        await consumer.stop()
    if first_batch == count:  # a small backlog comes in one fetch: time it from the asking
        return Rate(count, done - asked)
    return Rate(count - first_batch, done - first_at)


async def watch(
    processes: Sequence[ServiceProcess],
    progress: Progress,
    count: int,
    timeout: float,
    on_first: Callable[[], object] = lambda: None,
    elsewhere: Mapping[str, Callable[[], float]] | None = None,
    machine: Callable[[], tuple[float, float]] | None = None,
) -> CatchUp:
    """Poll the service's progress from its start until `count` events are handled and every event they derived is
    published (`Progress.publishing`), reading RSS at milestones;
    `on_first` runs when the first events are handled, after the start-up (imports, migrations, joining the group).
    Several instances of one service in one group count as one: their CPU time and RSS are summed. `elsewhere`
    names others' CPU seconds so far (PostgreSQL's, the broker's), `machine` the machine's busy and total CPU
    seconds: each read over the same span as the service's, so that the report says where the cores went."""
    first_at, first_count, rss_start, cpu_start = 0.0, 0, float("nan"), 0.0
    loop_start: tuple[float, float] | None = None
    rss: dict[int, float] = {}
    others = dict(elsewhere or {})
    others_start: dict[str, float] = {}
    machine_start = (0.0, 0.0)
    deadline = time.perf_counter() + timeout
    handled_at = 0.0

    def rss_now() -> float:
        return sum(p.rss_mib() for p in processes)

    def cpu_now() -> float:
        return sum(p.cpu_seconds() for p in processes)

    def loop_now() -> tuple[float, float] | None:
        times = [t for p in processes if (t := p.loop_thread_seconds()) is not None]
        if len(times) < len(processes):
            return None
        return sum(running for running, _ in times), sum(waiting for _, waiting in times)

    while True:
        for process in processes:
            process.check_alive()
        seen = count if handled_at else await progress.handled()
        now = time.perf_counter()
        if seen and not first_at:
            first_at, first_count = now, seen
            rss_start, cpu_start, loop_start = rss_now(), cpu_now(), loop_now()
            others_start = {name: read() for name, read in others.items()}
            machine_start = machine() if machine is not None else machine_start
            on_first()
        for milestone in MILESTONES:
            if seen >= milestone and milestone not in rss:
                rss[milestone] = rss_now()
        if seen >= count and not handled_at:
            handled_at = now
        if handled_at and not await progress.publishing():
            now = time.perf_counter()
            cpu, rss_end, loop_end = cpu_now() - cpu_start, rss_now(), loop_now()
            spent = {name: read() - others_start[name] for name, read in others.items()}
            busy = None
            if machine is not None:
                (busy_end, total_end), (busy_start, total_start) = machine(), machine_start
                spent["the whole machine"] = busy_end - busy_start
                busy = (busy_end - busy_start) / (total_end - total_start) if total_end > total_start else None
            break
        if now > deadline:
            waiting = ", but its outbox still holds events to publish" if handled_at else ""
            raise TimeoutError(f"{processes[0].service} handled {seen} of {count} events{waiting} in {timeout:.0f} s")
        await asyncio.sleep(NEAR_POLL_SECONDS if handled_at else pause(first_at, first_count, now, seen, count))
    handled = count - first_count
    span = (now - first_at) * len(processes)
    loop = None
    if loop_start is not None and loop_end is not None and span > 0:
        loop = ((loop_end[0] - loop_start[0]) / span, (loop_end[1] - loop_start[1]) / span)
    per_event = {name: 1000 * seconds / max(handled, 1) for name, seconds in spent.items()}
    return CatchUp(
        Rate(handled, now - first_at),
        1000 * cpu / max(handled, 1),
        rss_start,
        rss_end,
        rss,
        per_event,
        busy,
        now - handled_at,
        loop,
    )


def pause(first_at: float, first_count: int, now: float, seen: int, count: int) -> float:
    """Until progress is read again: briefly once the rest should take less than `NEAR_SECONDS` at the rate so far."""
    done = seen - first_count
    if not first_at or done <= 0 or now <= first_at:
        return POLL_SECONDS
    rest = (count - seen) / (done / (now - first_at))
    return NEAR_POLL_SECONDS if rest < NEAR_SECONDS else POLL_SECONDS
