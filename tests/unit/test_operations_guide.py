"""Operators can look up every log event the code emits, and every metric, in docs/operations.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from runtime.observability import Metrics

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
EVENT_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def log_events() -> dict[str, str]:
    """Every snake_case event name passed as the first argument of a logger call, with where it is."""
    found: dict[str, str] = {}
    for package in ("runtime", "services", "lhl"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in LEVELS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and EVENT_NAME.match(node.args[0].value)
                ):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_code_emits_log_events_at_all() -> None:
    assert {"event_processed", "event_dead_lettered", "timer_fired"} <= set(log_events())


def test_every_log_event_is_documented() -> None:
    missing = {name: where for name, where in log_events().items() if f"`{name}`" not in GUIDE}
    assert missing == {}, f"document these log events in docs/operations.md: {missing}"


def test_every_metric_is_documented() -> None:
    names = {metric.name for metric in Metrics("any").registry.collect()}
    missing = sorted(name for name in names if f"`{name}" not in GUIDE)
    assert names
    assert missing == [], f"document these metrics in docs/operations.md: {missing}"
