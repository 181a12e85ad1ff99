"""The catch-up benchmark sees a backlog's end within a few hundredths of a second, so a short run's rate is not
taken low by the pause between its readings of progress. Time here is a virtual clock: nothing waits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import catch_up
from benchmarks.environment import thread_seconds

RATE = 5_000.0
"""Events per second of the pretend service, committed in batches of `BATCH`."""
BATCH = 500


@dataclass
class Clock:
    now: float = 100.0
    readings: list[float] = field(default_factory=list)

    def perf_counter(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A virtual clock the benchmark's catch-up reads and sleeps on."""
    virtual = Clock()
    monkeypatch.setattr(catch_up, "time", SimpleNamespace(perf_counter=virtual.perf_counter))
    monkeypatch.setattr(catch_up, "asyncio", SimpleNamespace(sleep=virtual.sleep))
    return virtual


def steady(clock: Clock, started: float, count: int) -> Callable[[], int]:
    """Records handled by a service that starts handling at `started`, at `RATE`, committing `BATCH` at a time."""

    def handled() -> int:
        done = int((clock.now - started) * RATE) if clock.now > started else 0
        return min(count, done // BATCH * BATCH)

    return handled


@dataclass
class PretendService:
    service: str = "audit"

    def check_alive(self) -> None:
        pass

    def rss_mib(self) -> float:
        return 100.0

    def cpu_seconds(self) -> float:
        return 0.0

    def loop_thread_seconds(self) -> tuple[float, float] | None:
        return None


@dataclass
class PretendProgress:
    """A service's progress as the benchmark reads it: records handled, and whether derived events wait to go."""

    handled_by: Callable[[], int]
    published_by: Callable[[], bool] = lambda: True

    async def handled(self) -> int:
        return self.handled_by()

    async def publishing(self) -> bool:
        return not self.published_by()


@pytest.mark.parametrize("count", [10_000, 40_000])
async def test_a_backlogs_rate_is_measured_within_two_percent_of_the_rate_it_was_handled_at(
    clock: Clock, count: int
) -> None:
    started = clock.now + 1.3  # start-up: imports, migrations, joining the group
    handled = steady(clock, started, count)

    def progress() -> int:
        clock.readings.append(clock.now)
        return handled()

    measured = await catch_up.watch(
        [PretendService()],  # type: ignore[list-item]
        PretendProgress(progress),  # type: ignore[arg-type]
        count,
        timeout=60,
    )

    assert measured.rate.per_second == pytest.approx(RATE, rel=0.02)
    far = [b - a for a, b in zip(clock.readings, clock.readings[1:], strict=False) if b < started + 1]
    assert min(far) == catch_up.POLL_SECONDS  # far from the end, the database is not asked 50 times a second


def test_the_pause_is_short_only_near_the_end() -> None:
    assert catch_up.pause(0.0, 0, 5.0, 0, 10_000) == catch_up.POLL_SECONDS  # nothing seen yet
    assert catch_up.pause(1.0, 500, 2.0, 5_500, 40_000) == catch_up.POLL_SECONDS  # about 7 s to go
    assert catch_up.pause(1.0, 500, 2.0, 5_500, 7_000) == catch_up.NEAR_POLL_SECONDS  # about 0.3 s to go


async def test_the_cpu_others_spent_meanwhile_is_reported_per_event_over_the_same_span(clock: Clock) -> None:
    count = 20_000
    progress = steady(clock, clock.now + 1.3, count)

    # PostgreSQL busy on a whole core while the service works, also during its start-up, which must not count; the
    # machine's two cores three quarters busy.
    def postgres() -> float:
        return clock.now * 1.0

    def machine() -> tuple[float, float]:
        return clock.now * 1.5, clock.now * 2.0

    measured = await catch_up.watch(
        [PretendService()],  # type: ignore[list-item]
        PretendProgress(progress),  # type: ignore[arg-type]
        count,
        timeout=60,
        elsewhere={"PostgreSQL": postgres},
        machine=machine,
    )

    assert measured.elsewhere_ms_per_event["PostgreSQL"] == pytest.approx(1000 / RATE, rel=0.05)
    assert measured.elsewhere_ms_per_event["the whole machine"] == pytest.approx(1500 / RATE, rel=0.05)
    assert measured.machine_busy == pytest.approx(0.75)
    assert measured.cpu_ms_per_event == 0.0  # the service's own, apart from the others'


async def test_a_catch_up_ends_when_the_last_derived_event_is_published_not_when_the_last_record_is_handled(
    clock: Clock,
) -> None:
    started, count = clock.now + 1.3, 20_000
    handled_in = count / RATE
    relay_behind = 1.5  # the outbox empties a second and a half after the handlers' last commit
    progress = steady(clock, started, count)

    def published() -> bool:
        return clock.now >= started + handled_in + relay_behind

    measured = await catch_up.watch(
        [PretendService()],  # type: ignore[list-item]
        PretendProgress(progress, published),  # type: ignore[arg-type]
        count,
        timeout=60,
    )

    assert measured.publishing_seconds == pytest.approx(relay_behind, abs=0.05)
    assert measured.rate.seconds == pytest.approx(handled_in + relay_behind, rel=0.05)
    assert measured.rate.per_second < RATE * 0.8  # the handlers' rate alone would have been RATE


async def test_the_event_loops_thread_is_measured_over_the_catch_up_alone(clock: Clock) -> None:
    started, count = clock.now + 1.3, 20_000

    @dataclass
    class BusyLoop(PretendService):
        """Its loop's thread runs all through the start-up, then 0.8 s and waits 0.15 s for a core in every second."""

        def loop_thread_seconds(self) -> tuple[float, float] | None:
            working = max(0.0, clock.now - started)
            return clock.now - working + working * 0.8, working * 0.15

    async def measured(*services: PretendService) -> tuple[float, float] | None:
        clock.now = 100.0  # each catch-up from the same start
        caught_up = await catch_up.watch(
            services,  # type: ignore[arg-type]
            PretendProgress(steady(clock, started, count)),  # type: ignore[arg-type]
            count,
            timeout=60,
        )
        return caught_up.loop_thread

    assert await measured(BusyLoop()) == pytest.approx((0.8, 0.15))
    assert await measured(BusyLoop(), BusyLoop()) == pytest.approx((0.8, 0.15))  # the mean over instances, not the sum
    assert await measured(BusyLoop(), PretendService()) is None  # one instance's system did not say


def test_a_threads_time_running_and_waiting_is_read_from_the_schedulers_schedstat(tmp_path: Path) -> None:
    task = tmp_path / "4242" / "task" / "4242"
    task.mkdir(parents=True)
    (task / "schedstat").write_text("810000000 160000000 8394\n")

    assert thread_seconds(4242, 4242, proc=tmp_path) == pytest.approx((0.81, 0.16))
    assert thread_seconds(4242, 4243, proc=tmp_path) is None  # ended, or a kernel without schedstat
    (task / "schedstat").write_text("garbled\n")
    assert thread_seconds(4242, 4242, proc=tmp_path) is None
