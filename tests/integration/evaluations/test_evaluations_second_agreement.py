"""A second agreement with other dates, loaded from its JSON definition, runs its term with no code change."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from contracts import topics
from runtime.clock import ManualClock
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from tests.integration.evaluations.simulation import (
    days,
    drained,
    everything_on,
    live_through,
    noon,
    processed,
    status_report,
    tally,
)
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for

NEXT = "neste-avtale-2024"
DEFINITION = {
    "id": NEXT,
    "title": "Oppfølgingsavtale for Leve hele livet 2024",
    "reform": "Meld. St. 15 (2017-2018) Leve hele livet",
    "signed_on": "2024-02-01",
    "parties": ["hod", "ks"],
    "state_actors": ["hdir"],
    "term": {"start": "2024-03-01", "end": "2024-06-30"},
    "notice_period_months": 1,
    "focus_areas": [{"id": "aktivitet-og-fellesskap", "name": "Aktivitet og fellesskap"}],
    "reporting": {"dates": ["03-15", "06-01"], "reminder_days_before": 7},
    "evaluation": {
        "autumn_consultation_meeting": "05-20",
        "due_days_before_meeting": 14,
        "completion_deadline_days_after_meeting": 10,
    },
    "contact_meetings": {"national_interval_days": 60, "regional_interval_days": 60},
    "action_items": {"due_soon_days_before": 3},
}


async def test_second_agreement_reminds_warns_evaluates_and_expires_on_its_own_dates(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    (tmp_path / f"{NEXT}.json").write_text(json.dumps(DEFINITION), encoding="utf-8")
    clock = ManualClock(noon(date(2024, 3, 1)))
    settings = settings_for(EvaluationsSettings, infra, run_id, timer_poll_seconds=3600, agreements_dir=str(tmp_path))
    report = status_report("vestland", date(2024, 3, 15)).model_copy(update={"agreement_id": NEXT})
    async with running(create_app(settings, clock)) as runtime:
        for day in days(date(2024, 3, 1), date(2024, 7, 1)):
            await live_through(runtime, clock, day)
            if day == date(2024, 3, 14):
                event = cloud_event(report, source="/statsforvalteren/vestland/rapportering", agreement_id=NEXT)
                await bus.publish_event(topics.REPORTS_INGRESS, event)
                assert await processed(runtime, event) == "processed"
        await drained(runtime)
    published = await everything_on(bus, topics.EVALUATIONS_EVENTS, settings.topic_partitions)

    assert tally(published) == {
        "report.due": 10 + 10,
        "report.received": 1,
        "report.overdue": 9 + 10,
        "evaluation.due": 1,
        "evaluation.overdue": 1,
        "agreement.expired": 1,
    }
    assert {e["data"]["agreement_id"] for e in published} == {NEXT}
    first_due = [e for e in published if e["type"].endswith("report.due.v1") and e["time"].startswith("2024-03-08")]
    assert len(first_due) == 10
    assert {e["data"]["days_left"] for e in first_due} == {7}
    # From 2024 the Oslo og Viken office carries its new name; reminders use the name valid on the date.
    oslo = next(e for e in first_due if e["data"]["region"] == "oslo-viken")
    assert oslo["data"]["office_name"] == "Statsforvalteren i Østfold, Buskerud, Oslo og Akershus"
    evaluation = next(e for e in published if e["type"].endswith("evaluation.due.v1"))
    assert evaluation["time"].startswith("2024-05-06")
    assert (evaluation["data"]["year"], evaluation["data"]["deadline"]) == (2024, "2024-05-30")
    overdue = next(e for e in published if e["type"].endswith("evaluation.overdue.v1"))
    assert overdue["time"].startswith("2024-05-31")
    expired = next(e for e in published if e["type"].endswith("agreement.expired.v1"))
    assert expired["data"] == {"agreement_id": NEXT, "expired_on": "2024-06-30"}
    assert expired["time"].startswith("2024-07-01")
