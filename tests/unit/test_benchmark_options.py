"""The benchmark refuses a count it cannot run with a usage error that names the option, before it starts anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--instances", "0", "argument --instances: 0 is fewer than one"),
        ("--instances", "-2", "argument --instances: -2 is fewer than one"),
        ("--partitions", "x", "argument --partitions: 'x' is not a whole number"),
        ("--warm-up", "-1", "argument --warm-up: -1 is fewer than zero"),
        ("--warm-up", "1e4", "argument --warm-up: '1e4' is not a whole number"),
    ],
)
def test_a_count_below_one_or_not_a_number_is_a_usage_error(option: str, value: str, said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", option, value], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert said in done.stderr
