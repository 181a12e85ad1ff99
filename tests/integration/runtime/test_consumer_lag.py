"""A consumer stuck on a record shows a growing lag, read from the broker when scraped, and the stuck-consumer
alert fires on what was scraped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from contracts import catalog, topics
from contracts.events.meetings import ContactMeetingHeld
from runtime.clock import ManualClock
from runtime.definition import ServiceDefinition
from runtime.handling import HandlerContext
from runtime.settings import RuntimeSettings
from runtime.wiring import build_app
from tests.support import promtool
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for

HELD = catalog.of(ContactMeetingHeld).name
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class LagSettings(RuntimeSettings):
    """Logs in, reads and keeps its offsets as the meetings service (the broker lets no made-up service in)."""

    service_name: str = "meetings"


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(scraped: Samples, name: str) -> float:
    return sum(value for (series, _), value in scraped.items() if series == name)


async def scrape_until(client: httpx.AsyncClient, url: str, holds: Callable[[Samples], bool]) -> Samples:
    async with asyncio.timeout(30):
        while not holds(scraped := samples((await client.get(url)).text)):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    return scraped


async def test_the_lag_of_a_consumer_stuck_on_a_record_grows_and_the_stuck_alert_fires(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    gate = asyncio.Event()
    gate.set()
    stuck = asyncio.Event()

    async def handle(_: HandlerContext, __: Any) -> None:
        if not gate.is_set():
            stuck.set()
        await gate.wait()

    definition = ServiceDefinition(
        name="lagtest",
        description="a handler that can be held",
        migrations=tmp_path,
        consumes={topics.MEETINGS_INGRESS: {HELD: handle}},
    )
    settings = settings_for(LagSettings, infra, run_id, http_port=0)
    app = build_app(definition, settings, ManualClock(datetime(2022, 3, 11, tzinfo=UTC)))

    def event() -> Any:
        return cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT)

    async with running(app) as runtime, httpx.AsyncClient() as client:
        assert runtime.http is not None
        url = f"http://127.0.0.1:{runtime.http.bound_port}/metrics"
        for _ in range(3):
            await bus.publish_event(topics.MEETINGS_INGRESS, event())
        caught_up = await scrape_until(
            client,
            url,
            lambda s: (
                total(s, "lhl_events_consumed_total") == 3
                and "lhl_consumer_lag" in {n for n, _ in s}
                and total(s, "lhl_consumer_lag") == 0
            ),
        )
        gate.clear()
        await bus.publish_event(topics.MEETINGS_INGRESS, event())
        async with asyncio.timeout(30):
            await stuck.wait()
        for _ in range(5):
            await bus.publish_event(topics.MEETINGS_INGRESS, event())
        first_stuck = await scrape_until(client, url, lambda s: total(s, "lhl_consumer_lag") == 6)
        # What Prometheus would have scraped while the consumer stayed stuck: each real scrape replayed as a minute.
        replay = [first_stuck]
        for _ in range(11):
            await asyncio.sleep(0.5)
            replay.append(samples((await client.get(url)).text))
        gate.set()

    assert total(caught_up, "lhl_consumer_lag") == 0
    assert [total(s, "lhl_consumer_lag") for s in replay] == [6.0] * 12
    assert [total(s, "lhl_events_consumed_total") for s in replay] == [3.0] * 12
    tested = promtool.run("test", "rules", str(stuck_alert_test(replay, bus.topic(topics.MEETINGS_INGRESS), tmp_path)))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def stuck_alert_test(replay: list[Samples], topic: str, folder: Path) -> Path:
    """A promtool unit test whose input series are the scraped samples, expecting LhlConsumerStuck to fire."""
    series: dict[str, list[float]] = {}
    for scraped in replay:
        for (name, labels), value in scraped.items():
            if name in {"lhl_consumer_lag", "lhl_events_consumed_total"}:
                selector = ",".join(f'{k}="{v}"' for k, v in labels)
                series.setdefault(f"{name}{{{selector}}}", []).append(value)
    rule = next(
        r
        for g in yaml.safe_load(promtool.ALERTS.read_text())["groups"]
        for r in g["rules"]
        if r.get("alert") == "LhlConsumerStuck"
    )
    document = {
        "rule_files": [str(promtool.ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": " ".join(f"{v:g}" for v in vs)} for s, vs in series.items()],
                "alert_rule_test": [
                    {
                        "eval_time": "11m",
                        "alertname": "LhlConsumerStuck",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "page", "service": "lagtest", "topic": topic},
                                "exp_annotations": {
                                    "summary": f"lagtest reads nothing from {topic} while 6 records wait",
                                    "description": rule["annotations"]["description"],
                                    "runbook": rule["annotations"]["runbook"],
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = folder / "stuck.test.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
