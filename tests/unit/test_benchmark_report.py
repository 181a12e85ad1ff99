"""The benchmark's report says where the cores went during each catch-up, beside the service's own CPU."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from unittest.mock import patch

from benchmarks import report
from benchmarks.catch_up import CatchUp, Rate


def a_catch_up(elsewhere: dict[str, float], busy: float | None) -> CatchUp:
    return CatchUp(Rate(10_000, 6.0), 0.755, 200.0, 210.0, {10_000: 205.0}, elsewhere, busy)


def test_the_others_cpu_per_event_and_the_machines_busy_share_are_a_table_of_their_own() -> None:
    out = report.Report(events=10_000, partitions=3)
    raw = Rate(10_000, 0.05)
    out.catch_up("meetings", "no.levehelelivet.meeting.held.v1", raw, a_catch_up({"PostgreSQL": 0.18}, 0.83), None)
    out.catch_up("audit", "no.levehelelivet.action-item.assigned.v1", raw, a_catch_up({}, None), None)

    lines = report.render(out).splitlines()

    header = lines.index("| during the catch-up of | CPU per event: the service | PostgreSQL | machine busy |")
    assert lines[header + 2] == "| meetings | 0.755 ms | 0.180 ms | 83% |"
    assert lines[header + 3] == "| audit | 0.755 ms | - | - |"  # a stack in containers: nothing to read


def test_without_the_others_figures_there_is_no_such_table() -> None:
    out = report.Report(events=10_000, partitions=3)
    out.catch_up("audit", "t", Rate(10_000, 0.05), a_catch_up({}, None), None)

    assert "during the catch-up of" not in report.render(out)


def test_the_event_loops_thread_is_said_to_set_the_pace_only_when_it_was_never_idle() -> None:
    out = report.Report(events=10_000, partitions=3)
    raw = Rate(10_000, 0.05)
    pacing, idle, unknown = a_catch_up({}, None), a_catch_up({}, None), a_catch_up({}, None)
    pacing.loop_thread, idle.loop_thread = (0.81, 0.16), (0.42, 0.03)
    out.catch_up("meetings", "t", raw, pacing, None)
    out.catch_up("audit", "t", raw, idle, None)
    out.catch_up("evaluations", "t", raw, unknown, None)

    lines = report.render(out).splitlines()

    assert (
        "meetings: its event loop's thread ran 81% of the catch-up and waited 16% for a core "
        "(together near all of it: the loop's thread set the pace)"
    ) in lines
    assert "audit: its event loop's thread ran 42% of the catch-up and waited 3% for a core" in lines
    assert not any(line.startswith("evaluations: its event loop") for line in lines)  # the system did not say


def test_the_machine_line_names_the_interpreters_own_file_not_the_venvs_link(tmp_path: Path) -> None:
    interpreter = tmp_path / "python3.11"
    interpreter.write_text("")
    venv_python = tmp_path / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(interpreter)

    with patch.object(sys, "executable", str(venv_python)):
        line = report.machine()

    assert line.endswith(f", Python {platform.python_version()} ({interpreter})")


def test_a_warm_up_before_the_measurements_is_said_and_none_is_not_mentioned() -> None:
    warmed, cold = report.Report(events=10_000, partitions=3, warm_up=10_000), report.Report(10_000, 3)

    assert (
        "warm-up:  10,000 held meetings caught up on by the meetings service first, not measured"
        in report.render(warmed).splitlines()
    )
    assert "warm-up" not in report.render(cold)
