"""Prometheus's promtool, from Debian's `prometheus` package, installed on first use when missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import debian

PROMTOOL = Path("/usr/bin/promtool")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Without recommends: the tests want the tool, not a node exporter daemon.
    binary = debian.program(PROMTOOL, "prometheus", recommends=False)
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd)
