"""The top frames of a service's own Python, sampled by py-spy from outside its process while it works."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LOOP_CALLBACK = "Handle._run "


@dataclass(frozen=True)
class Frames:
    samples: int
    own: list[tuple[str, int]]
    total: list[tuple[str, int]]


class Sampler:
    """`py-spy record` attached to a running process, writing raw (collapsed) stacks until it is stopped."""

    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        self.out = out
        py_spy = Path(sys.executable).parent / "py-spy"
        self.process = subprocess.Popen(
            [str(py_spy), "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self, top: int = 15) -> Frames:
        # py-spy writes what it sampled when interrupted, as on Ctrl-C.
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=60)
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")
        return top_frames(self.out.read_text(), top)


def top_frames(collapsed: str, top: int) -> Frames:
    """Own time: samples whose innermost frame it is. Total: samples with the frame anywhere on the stack."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        # Every callback of the event loop has the CLI, the runner and the loop itself below it: total time counts
        # from the loop's callback up, where one record's work is told apart from another's. A sample outside any
        # callback (the loop waiting in select, another thread) counts for its innermost frame only.
        steps = [i for i, frame in enumerate(frames) if frame.startswith(LOOP_CALLBACK)]
        for frame in set(frames[steps[-1] + 1 :] if steps else frames[-1:]):
            total[frame] += count
    return Frames(samples, own.most_common(top), total.most_common(top))


def _short(frame: str) -> str:
    """`send (aiokafka/producer/producer.py:123)` with the site-packages or checkout path left out."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    where = where.removeprefix(str(Path.cwd()) + "/")
    return f"{name} ({where})" if where else name


def render(frames: Frames, service: str) -> str:
    lines = [f"py-spy profile of {service} during catch-up: {frames.samples} samples"]
    for title, rows in (("own time", frames.own), ("total time (from the event loop's callback up)", frames.total)):
        lines.append(f"  top frames by {title}:")
        lines += [f"    {100 * n / max(frames.samples, 1):5.1f} %  {frame}" for frame, n in rows]
    return "\n".join(lines)
