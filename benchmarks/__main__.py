"""One benchmark for every service: `make bench`, or `python -m benchmarks --help` with the stack's environment.

On the local stack, each service runs as its own process (as `lhl run` starts it) in a fresh topic prefix and
schema, and catches up on a backlog of realistic, signed, valid events, beside a raw aiokafka consumer reading the
same topic in the same run. Then the latency from publication to the audit's record at a fixed offered rate: plain
ingress events (the audit alone), and held meetings to the audit's record of the derived `meeting.recorded`. It
prints a table; nothing here is asserted: the figures are for the README and for comparing two commits.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import report
from benchmarks.catch_up import Rate, raw_rate, watch
from benchmarks.environment import Namespace, machine_cpu_seconds, namespace, running, tree_cpu_seconds
from benchmarks.latency import WARM_UP, offer
from benchmarks.profile import Frames, Sampler
from benchmarks.workload import HELD, Signed, assigned_item, held_meeting, produce, signed
from contracts import catalog, topics
from contracts.events.meetings import ContactMeetingRecorded
from deploy import stack
from lhl.demo.mailbox import Mailbox

SERVICES = ("meetings", "evaluations", "notifications", "audit")
BACKLOG = {
    "meetings": (topics.MEETINGS_INGRESS, held_meeting),
    "evaluations": (topics.MEETINGS_EVENTS, assigned_item),
    "notifications": (topics.MEETINGS_EVENTS, assigned_item),
    "audit": (topics.MEETINGS_EVENTS, assigned_item),
}
"""What each service catches up on: held meetings for the meetings service, derived action items for the others."""


@dataclass(frozen=True)
class Options:
    events: int
    partitions: int
    only: tuple[str, ...]
    latency_seconds: float
    audit_rate: float
    held_rate: float
    delivery_seconds: float
    profile: Path | None
    timeout: float
    keep: bool
    instances: int = 1
    warm_up: int = 0


STACK_WARM_UP = 30_000
"""Held meetings of the untimed catch-up before the measured ones. A broker just started spent twice the CPU per
held meeting on the meetings service's first 100k (0.090 against 0.044 ms in the next run), its JIT still compiling
what every run uses; after 10,000 such it spent 0.068, after 30,000 0.054 (docs/performance.md)."""


def backlog(space: Namespace, service: str, count: int) -> tuple[str, list[Signed]]:
    topic, make = BACKLOG[service]
    return topic, signed([make(space.tag, n) for n in range(count)], space.signers)


def stack_cpu() -> dict[str, Callable[[], float]]:
    """PostgreSQL's and the broker's CPU seconds so far, when they run on this machine as the local stack's processes
    (`deploy.stack`); nothing for a part that does not (the containers of `make test` on a machine with Docker)."""
    running = stack.pids()
    named = {"PostgreSQL": running["postgres"], "the broker": running["kafka"]}
    return {name: functools.partial(tree_cpu_seconds, pid) for name, pid in named.items() if pid is not None}


def progress(message: str) -> None:
    """A line on stderr, so a run of several minutes shows where it is while stdout keeps only the table."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


async def catch_up(options: Options, service: str, out: report.Report) -> None:
    async with namespace(options.partitions, options.keep) as space:
        progress(f"{service}: signing and producing a backlog of {options.events:,} events")
        topic, records = backlog(space, service, options.events)
        # The broker lets only the meetings service write its derived topic; the operator publishes ingress events.
        publisher = space.operator if topic in topics.INGRESS_TOPICS else space.settings("meetings")
        await produce(publisher, topic, records)
        raw = await raw_rate(space, topic, options.events)
        sink = Mailbox() if service == "notifications" else None
        env = {}
        if sink is not None:
            sink.start()
            env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)}
        try:
            async with running(space, [service] * options.instances, env) as processes:
                following = Deliveries(sink) if sink is not None else None
                samplers: list[Sampler] = []

                def profile() -> None:
                    if options.profile:
                        samplers.append(Sampler(processes[0].pid, options.profile / f"{service}.txt"))

                pids = ", ".join(str(p.pid) for p in processes)
                progress(f"{service}: catching up, {len(processes)} process(es) in one group (pid {pids})")
                async with space.counting(service) as counted:
                    measured = await watch(
                        processes, counted, options.events, options.timeout, profile, stack_cpu(), machine_cpu_seconds
                    )
                frames: Frames | None = samplers[0].stop() if samplers else None
                deliveries = await following.until(space, options.delivery_seconds) if following else None
        finally:
            if sink is not None:
                sink.stop()
    named = service if options.instances == 1 else f"{service} ×{options.instances}"
    out.catch_up(named, records[0].event.type, raw, measured, deliveries)
    if frames is not None:
        out.profiles[service] = frames


class Deliveries:
    """Counts the e-mails the local SMTP sink receives from the service's start: most arrive during catch-up."""

    def __init__(self, sink: Mailbox) -> None:
        self.sink = sink
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] = (time.perf_counter(), 0)
        self._task = asyncio.create_task(self._follow())

    def received(self) -> int:
        return len(self.sink.subjects)

    async def _follow(self) -> None:
        while True:
            got = self.received()
            if got != self.last[1]:
                self.last = (time.perf_counter(), got)
                if self.first is None:
                    self.first = self.last
            await asyncio.sleep(0.05)

    async def until(self, space: Namespace, limit: float) -> tuple[int, Rate]:
        """Until every delivery row's e-mail is in, or `limit` seconds after catch-up; the rate over that span."""
        # Catch-up is over, and each record's deliveries were written in its own transaction: all rows are there.
        wanted = len(await space.fetch("notifications", "SELECT 1 FROM {schema}.deliveries"))
        deadline = time.perf_counter() + limit
        while True:
            if self.received() >= wanted or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.1)
        self._task.cancel()
        if self.first is None:
            return wanted, Rate(0, 0.0)
        (started, before), (ended, after) = self.first, self.last
        return wanted, Rate(after - before, ended - started)


async def latencies(options: Options, out: report.Report) -> None:
    recorded = catalog.of(ContactMeetingRecorded).name
    await _latency(options, out, "ingress event → audit record", options.audit_rate, ["audit"], HELD.name)
    label = "held meeting → audit record of meeting.recorded"
    await _latency(options, out, label, options.held_rate, ["meetings", "audit"], recorded)


async def _latency(
    options: Options, out: report.Report, label: str, rate: float, services: list[str], recorded_type: str
) -> None:
    """Held meetings offered on the ingress at `rate` to `services`, timed to the audit's record of
    `recorded_type`; a rate of 0 skips it."""
    if rate <= 0:
        return
    progress(f"latency: {rate:,.0f} held meetings/s to {' and '.join(services)} for {options.latency_seconds:.0f} s")
    count = WARM_UP + int(rate * options.latency_seconds)
    every = [s for s in services for _ in range(options.instances)]
    async with namespace(options.partitions, options.keep) as space, running(space, every) as processes:
        records = signed([held_meeting(space.tag, n) for n in range(count)], space.signers)
        out.latencies[label] = await offer(
            space, topics.MEETINGS_INGRESS, records, rate, recorded_type, options.timeout, processes
        )


async def run(options: Options) -> report.Report:
    # Stopped by a signal, the run unwinds: its service processes stop and its topics and schemas are removed. A
    # background job does not get SIGINT (the shell ignores it there), so SIGTERM does the same.
    main = asyncio.current_task()
    assert main is not None
    for stop in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(stop, main.cancel)
    out = report.Report(options.events, options.partitions, options.instances)
    if options.warm_up > 0:
        progress(f"warming up the broker and the database: {options.warm_up:,} held meetings, not measured")
        warming = replace(options, events=options.warm_up, profile=None, instances=1)
        await catch_up(warming, "meetings", report.Report(options.warm_up, options.partitions))
        out.warm_up = options.warm_up
    for service in options.only:
        await catch_up(options, service, out)
    if options.latency_seconds > 0:
        await latencies(options, out)
    return out


def _at_least_one(text: str) -> int:
    """A count of partitions or processes: a whole number of at least one, or argparse's usage error naming it."""
    return _counted(text, 1, "one")


def _at_least_zero(text: str) -> int:
    """A count of events that may be none."""
    return _counted(text, 0, "zero")


def _counted(text: str, least: int, named: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"{number} is fewer than {named}")
    return number


def parse() -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--events",
        type=int,
        default=int(env("BENCH_EVENTS", "10000")),
        help="Backlog per service (env BENCH_EVENTS; default 10000). RSS is read at 10k and 100k.",
    )
    parser.add_argument("--partitions", type=_at_least_one, default=3, help="Partitions of the fresh topics.")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=SERVICES,
        default=list(SERVICES),
        help="Services to measure; none for latency only.",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=float(env("BENCH_LATENCY_SECONDS", "10")),
        help="How long each fixed rate is offered; 0 skips the latency runs.",
    )
    parser.add_argument(
        "--audit-rate", type=float, default=1000, help="Ingress events/s offered to the audit alone; 0 skips this run."
    )
    parser.add_argument(
        "--held-rate", type=float, default=200, help="Held meetings/s offered to meetings + audit; 0 skips this run."
    )
    parser.add_argument(
        "--delivery-seconds",
        type=float,
        default=60,
        help="Most seconds to wait for the notifications' e-mails after catch-up.",
    )
    parser.add_argument(
        "--profile", type=Path, help="Sample each measured service (its first instance) with py-spy into this folder."
    )
    parser.add_argument("--timeout", type=float, default=1800, help="Seconds before a stuck measurement fails.")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the topics and schemas for inspection (autovacuum then works on their tables during later runs).",
    )
    parser.add_argument(
        "--instances",
        type=_at_least_one,
        default=1,
        help="Processes of each service, in one consumer group (CPU time and RSS summed over them).",
    )
    parser.add_argument(
        "--warm-up",
        type=_at_least_zero,
        default=STACK_WARM_UP,
        help="Held meetings the meetings service catches up on, unmeasured, before the first measurement (0: none).",
    )
    a = parser.parse_args()
    if a.profile:
        a.profile.mkdir(parents=True, exist_ok=True)
    return Options(
        a.events,
        a.partitions,
        tuple(a.only),
        a.latency_seconds,
        a.audit_rate,
        a.held_rate,
        a.delivery_seconds,
        a.profile,
        a.timeout,
        a.keep,
        a.instances,
        a.warm_up,
    )


def main() -> None:
    options = parse()
    print(report.render(asyncio.run(run(options))))


if __name__ == "__main__":
    main()
