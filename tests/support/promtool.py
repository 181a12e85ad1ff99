"""Prometheus's promtool (Debian's `prometheus` package, installed on first use when missing) and what the alert
rules and dashboard in deploy/monitoring may name: the series the services really export."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from runtime.observability import Metrics
from tests.support import debian

PROMTOOL = Path("/usr/bin/promtool")
MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
ALERTS = MONITORING / "alerts.yaml"
ALERT_TESTS = MONITORING / "alerts.test.yaml"
DASHBOARD = MONITORING / "dashboard.json"

_METRIC = re.compile(r"\b(?:lhl|process|python)_[a-z0-9_]+\b")
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",), "info": ("_info",)}


def promtool() -> Path:
    """The binary; under `make test` (LHL_REQUIRE_INTEGRATION=1) a promtool that cannot be had fails the test."""
    try:
        # Without recommends: the tests want the tool, not a node exporter daemon.
        return debian.program(PROMTOOL, "prometheus", recommends=False)
    except debian.PackageUnavailable as error:
        if os.environ.get("LHL_REQUIRE_INTEGRATION") == "1":
            pytest.fail(str(error))
        pytest.skip(str(error))


def run(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool()), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def exported_series() -> set[str]:
    """Every series name a service's /metrics can carry, from the registry the services use (not a list by hand)."""
    names: set[str] = set()
    for family in Metrics("any").registry.collect():
        names.update(f"{family.name}{suffix}" for suffix in _SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads (ours and the process collector's)."""
    return set(_METRIC.findall(expression))
