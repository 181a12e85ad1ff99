"""The benchmark's table: the date, the machine and the commit first, since figures mean nothing without them."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.catch_up import MILESTONES, CatchUp, Rate
from benchmarks.latency import Latency
from benchmarks.profile import Frames
from benchmarks.profile import render as render_profile


@dataclass(frozen=True)
class Row:
    service: str
    backlog: str
    raw: Rate
    service_rate: CatchUp
    deliveries: tuple[int, Rate] | None


@dataclass
class Report:
    events: int
    partitions: int
    instances: int = 1
    warm_up: int = 0
    """Held meetings of the untimed catch-up that ran first, if any."""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: list[Row] = field(default_factory=list)
    latencies: dict[str, Latency] = field(default_factory=dict)
    profiles: dict[str, Frames] = field(default_factory=dict)

    def catch_up(
        self, service: str, backlog: str, raw: Rate, measured: CatchUp, deliveries: tuple[int, Rate] | None
    ) -> None:
        self.rows.append(Row(service, backlog, raw, measured, deliveries))


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}, {interpreter()}"


def interpreter() -> str:
    """The Python version and the interpreter's own file (a venv's `python` resolved): builds of one version differ
    by a sixth in speed with their compiler's options (the Makefile's `PYTHON`)."""
    return f"Python {platform.python_version()} ({os.path.realpath(sys.executable)})"


def commit() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MiB"


def _ratio(service: Rate, raw: Rate) -> str:
    return f"{service.per_second / raw.per_second:.4f}" if raw.per_second > 0 else "-"


def _elsewhere(rows: list[Row]) -> list[str]:
    """Where the cores went during each catch-up: the service's CPU per event beside the others' over the same span."""
    names = list(dict.fromkeys(name for row in rows for name in row.service_rate.elsewhere_ms_per_event))
    if not names:
        return []
    lines = [
        "",
        "| during the catch-up of | CPU per event: the service | " + " | ".join(names) + " | machine busy |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for row in rows:
        measured = row.service_rate
        spent = [measured.elsewhere_ms_per_event.get(name) for name in names]
        busy = "-" if measured.machine_busy is None else f"{measured.machine_busy:.0%}"
        cells = " | ".join("-" if ms is None else f"{ms:.3f} ms" for ms in spent)
        lines.append(f"| {row.service} | {measured.cpu_ms_per_event:.3f} ms | {cells} | {busy} |")
    return lines


def render(report: Report) -> str:
    lines = [
        f"date:     {report.started:%Y-%m-%d %H:%M} UTC",
        f"machine:  {machine()}",
        f"commit:   {commit()}",
        f"backlog:  {report.events:,} events per service, {report.partitions} partitions",
        *(
            [f"warm-up:  {report.warm_up:,} held meetings caught up on by the meetings service first, not measured"]
            if report.warm_up
            else []
        ),
        *(
            [f"each service as {report.instances} processes in one consumer group; CPU and RSS summed over them"]
            if report.instances > 1
            else []
        ),
        "",
        "| service | backlog | events/s | raw consumer events/s | ratio | CPU per event "
        + "".join(f"| RSS after {m // 1000}k " for m in MILESTONES)
        + "| RSS at start | RSS at the end |",
        "|---|---|---|---|---|---|" + "---|" * len(MILESTONES) + "---|---|",
    ]
    for row in report.rows:
        measured = row.service_rate
        rss = "".join(f"| {_mib(measured.rss_mib.get(m))} " for m in MILESTONES)
        lines.append(
            f"| {row.service} | {row.backlog.removeprefix('no.levehelelivet.')} "
            f"| {measured.rate.per_second:,.0f} | {row.raw.per_second:,.0f} "
            f"| {_ratio(measured.rate, row.raw)} | {measured.cpu_ms_per_event:.3f} ms "
            f"{rss}| {_mib(measured.rss_start_mib)} | {_mib(measured.rss_end_mib)} |"
        )
    lines += _elsewhere(report.rows)
    lines += [
        f"\n{row.service}: its event loop's thread ran {run:.0%} of the catch-up and waited {wait:.0%} for a core"
        + (" (together near all of it: the loop's thread set the pace)" if run + wait >= 0.9 else "")
        for row in report.rows
        if row.service_rate.loop_thread is not None
        for run, wait in [row.service_rate.loop_thread]
    ]
    lines += [
        f"\n{row.service}: the last derived event was published {row.service_rate.publishing_seconds:.2f} s after "
        "the last record was handled (within its rate: a catch-up ends when its outbox is empty)"
        for row in report.rows
        if row.service_rate.publishing_seconds >= 0.05
    ]
    for row in report.rows:
        if row.deliveries is not None:
            wanted, rate = row.deliveries
            lines.append(
                f"\nnotifications' e-mails to a local SMTP sink: {rate.per_second:,.1f} deliveries/s "
                f"({rate.events:,} received in {rate.seconds:.1f} s; {wanted:,} delivery rows)"
            )
    if report.latencies:
        lines += [
            "",
            "| from publication, at a fixed offered rate | offered/s | events | p50 | p99 | max "
            "| CPU per offered event | autovacuum runs meanwhile |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, latency in report.latencies.items():
            cpu = ", ".join(f"{service} {ms:.2f} ms" for service, ms in latency.cpu_ms_per_event.items()) or "-"
            lines.append(
                f"| {name} | {latency.rate:,.0f} | {latency.events:,} | {latency.p50_ms:,.0f} ms "
                f"| {latency.p99_ms:,.0f} ms | {latency.max_ms:,.0f} ms | {cpu} "
                f"| {latency.maintenance} |"
            )
    for service, frames in report.profiles.items():
        lines += ["", render_profile(frames, service)]
    lines += ["", "Printed by the benchmark, never asserted; the machine is shared, so the figures are noisy."]
    return "\n".join(lines)
