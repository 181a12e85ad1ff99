"""The alert rules and the dashboard in deploy/monitoring: valid, tested with promtool, covering every alarm of the
operations guide, and naming only series the services really export."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import promtool

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(promtool.ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def alarmed_metrics() -> set[str]:
    """The metrics whose row in the guide's "Metrics and alarms" table names an alarm (not "none ...")."""
    section = GUIDE.split("## Metrics and alarms", 1)[1].split("\n## ", 1)[0]
    found = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and (name := re.match(r"`([a-z_]+)", cells[0])) and not cells[3].startswith("none"):
            found.add(_family(name.group(1)))
    return found


def _family(series: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", series)


def test_promtool_finds_the_rules_valid() -> None:
    checked = promtool.run("check", "rules", promtool.ALERTS.name)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout


def test_every_alert_fires_and_stays_quiet_as_its_promtool_tests_expect() -> None:
    tested = promtool.run("test", "rules", promtool.ALERT_TESTS.name)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_case_that_fires_and_one_that_does_not() -> None:
    cases = yaml.safe_load(promtool.ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
    evaluations = [check for case in cases for check in case["alert_rule_test"]]

    firing = {check["alertname"] for check in evaluations if check["exp_alerts"]}
    quiet = {check["alertname"] for check in evaluations if not check["exp_alerts"]}

    names = {rule["alert"] for rule in alert_rules()}
    assert names == firing, f"alerts never seen firing: {names - firing}"
    assert names == quiet, f"alerts never seen staying quiet: {names - quiet}"


def test_every_alarm_in_the_operations_guide_has_an_alert_rule() -> None:
    watched = set().union(*(promtool.metric_names(rule["expr"]) for rule in alert_rules()))
    watched_base = {_family(name) for name in watched}

    alarmed = alarmed_metrics()

    assert {"lhl_consumer_lag", "lhl_outbox_backlog"} <= alarmed
    assert alarmed - watched_base == set()
    assert all(rule["annotations"]["runbook"].startswith("docs/operations.md#") for rule in alert_rules())


def test_alert_rules_name_only_series_the_services_export() -> None:
    exported = promtool.exported_series()

    named = {rule["alert"]: promtool.metric_names(rule["expr"]) for rule in alert_rules()}

    assert all(named.values()), named
    assert {alert: names - exported for alert, names in named.items() if names - exported} == {}


def dashboard_expressions(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Each panel's title and its queries' PromQL, and the template variables' queries."""
    found = {
        panel["title"]: [target["expr"] for target in panel.get("targets", [])]
        for panel in dashboard["panels"]
        if panel["type"] != "row"
    }
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found[f"${variable['name']}"] = [variable["query"]["query"]]
    return found


def test_the_dashboard_shows_each_concern_with_series_the_services_export() -> None:
    dashboard = json.loads(promtool.DASHBOARD.read_text(encoding="utf-8"))
    exported = promtool.exported_series()

    expressions = dashboard_expressions(dashboard)
    named = {title: set().union(*map(promtool.metric_names, exprs)) for title, exprs in expressions.items()}
    everything = "\n".join(expr for exprs in expressions.values() for expr in exprs)

    assert all(exprs and all(exprs) for exprs in expressions.values()), expressions
    assert {title: names - exported for title, names in named.items() if names - exported} == {}
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for concern in (
        r"rate\(lhl_events_total",  # throughput
        r"lhl_consumer_lag",
        r"sum by \(service, reason\) \(increase\(lhl_events_dead_lettered_total",  # dead letters by reason
        r"lhl_outbox_backlog",
        r"lhl_outbox_oldest_age_seconds",
        r"lhl_timers_pending",
        r"lhl_timer_firing_lag_seconds_bucket",
        r"sum by \(channel, outcome\) \(increase\(lhl_deliveries_total",  # deliveries by outcome
        r"lhl_audit_records",
        r"time\(\) - lhl_audit_checkpoint_timestamp_seconds",
        r"lhl_gc_pause_seconds_bucket",
    ):
        assert re.search(concern, everything), concern


def test_under_make_test_a_promtool_that_cannot_be_installed_fails_the_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(promtool, "PROMTOOL", tmp_path / "promtool")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # not root: installing is not ours to do

    monkeypatch.setenv("LHL_REQUIRE_INTEGRATION", "1")
    with pytest.raises(pytest.fail.Exception, match="sudo sh -c 'apt-get update && "):
        promtool.promtool()
    monkeypatch.delenv("LHL_REQUIRE_INTEGRATION")
    with pytest.raises(pytest.skip.Exception, match="installing it needs root"):
        promtool.promtool()
