"""The collector's settings after a service's start (runtime.heap), in a fresh interpreter (the test process must
keep its own), and its pauses timed for the metrics."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from runtime import heap

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json
from runtime import heap
kept = [[n] for n in range(1000)]  # lists are containers the collector tracks
before = (gc.get_freeze_count(), gc.get_threshold())
heap.settle()
cycle = []
cycle.append(cycle)
del cycle
print(json.dumps({
    "before": before,
    "frozen": gc.get_freeze_count(),
    "threshold": gc.get_threshold(),
    "collected": gc.collect(),
}))
"""


def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_what_start_built_is_frozen_and_the_young_are_collected_less_often() -> None:
    result = _probe()
    assert result["before"] == [0, [700, 10, 10]]
    frozen = result["frozen"]
    assert isinstance(frozen, int)
    assert frozen > 1000  # the probe's own thousand lists at least
    assert result["threshold"] == [10_000, 10, 10]


def test_garbage_made_after_it_is_still_collected() -> None:
    collected = _probe()["collected"]
    assert isinstance(collected, int)
    assert collected >= 1  # the self-referencing list: a cycle only the collector frees


def test_each_pause_of_the_collector_is_observed_by_generation_while_installed() -> None:
    observed: list[tuple[str, float]] = []
    pauses = heap.Pauses(lambda generation, seconds: observed.append((generation, seconds)))
    pauses.install()
    pauses.install()  # a second start of the same wiring adds no second callback
    gc.disable()  # only the two collections below, none that the test's own allocations would start
    try:
        gc.collect()
        gc.collect(0)
    finally:
        gc.enable()
        pauses.remove()
    gc.collect()
    assert [generation for generation, _ in observed] == ["2", "0"]
    assert all(seconds >= 0 for _, seconds in observed)
