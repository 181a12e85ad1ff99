"""Termination on the real broker and database: notice rules, the end on the effective date, silence afterwards."""

from __future__ import annotations

from datetime import date

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from contracts.envelope import CloudEvent
from contracts.events.evaluations import AnnualEvaluationCompleted, TerminationNoticeGiven
from runtime.clock import ManualClock
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from tests.integration.evaluations.simulation import (
    AGREEMENT,
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
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import running, settings_for

KS = "/ks/sekretariat"
HOD = "/hod/saksbehandling"


def notice(given_by: str, notice_date: date, effective_date: date) -> TerminationNoticeGiven:
    return TerminationNoticeGiven(
        agreement_id=AGREEMENT,
        given_by=given_by,
        notice_date=notice_date,
        effective_date=effective_date,
        reason="Partene er enige om en ny avtale.",
    )


async def test_accepted_notice_ends_the_agreement_on_its_effective_date_and_nothing_falls_due_after(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(noon(date(2022, 9, 1)))
    settings = settings_for(EvaluationsSettings, infra, run_id, timer_poll_seconds=3600)
    completed = AnnualEvaluationCompleted(
        agreement_id=AGREEMENT, year=2022, completed_on=date(2022, 11, 20), completed_by="hod"
    )
    given = date(2023, 1, 10)
    accepted = cloud_event(notice("ks", given, date(2023, 4, 10)), source=KS)
    vestland = status_report("vestland", date(2022, 11, 1))
    reused_id = status_report("agder", date(2022, 11, 1)).model_copy(update={"report_id": vestland.report_id})
    on_the_day: dict[date, list[tuple[str, CloudEvent]]] = {
        date(2022, 10, 30): [
            (topics.REPORTS_INGRESS, cloud_event(vestland, source="/statsforvalteren/vestland/rapportering"))
        ],
        date(2022, 11, 1): [
            (topics.REPORTS_INGRESS, cloud_event(reused_id, source="/statsforvalteren/agder/rapportering"))
        ],
        date(2022, 11, 20): [(topics.AGREEMENT_INGRESS, cloud_event(completed, source=HOD))],
        given: [
            (topics.AGREEMENT_INGRESS, cloud_event(notice("ks", given, date(2023, 4, 9)), source=KS)),
            (
                topics.AGREEMENT_INGRESS,
                cloud_event(notice("hdir", given, date(2023, 6, 1)), source="/hdir/leve-hele-livet"),
            ),
            (topics.AGREEMENT_INGRESS, accepted),
            (topics.AGREEMENT_INGRESS, cloud_event(notice("hod", given, date(2023, 6, 1)), source=HOD)),
            (topics.AGREEMENT_INGRESS, cloud_event(notice("ks", given, date(2023, 4, 10)), source=KS)),
            (
                topics.REPORTS_INGRESS,
                cloud_event(
                    status_report("vestland", date(2022, 11, 1)), source="/statsforvalteren/rogaland/rapportering"
                ),
            ),
        ],
        date(2023, 5, 15): [
            (
                topics.REPORTS_INGRESS,
                cloud_event(
                    status_report("vestland", date(2023, 5, 15)), source="/statsforvalteren/vestland/rapportering"
                ),
            )
        ],
    }
    async with running(create_app(settings, clock)) as runtime:
        for day in days(date(2022, 9, 1), date(2024, 1, 2)):
            await live_through(runtime, clock, day)
            for topic, event in on_the_day.get(day, []):
                await bus.publish_event(topic, event)
                await processed(runtime, event)
        await drained(runtime)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 6)
    published = await everything_on(bus, topics.EVALUATIONS_EVENTS, settings.topic_partitions)

    assert tally(published) == {
        "report.due": 10,
        "report.received": 1,
        "report.overdue": 9,
        "evaluation.due": 1,
        "agreement.termination-notice-accepted": 1,
        "agreement.terminated": 1,
    }
    assert {e["data"]["reporting_date"] for e in published if "report" in e["type"]} == {"2022-11-01"}
    terminated = next(e for e in published if e["type"].endswith("agreement.terminated.v1"))
    assert terminated["data"] == {"agreement_id": AGREEMENT, "effective_date": "2023-04-10", "given_by": "ks"}
    assert terminated["correlationid"] == accepted.correlationid
    assert terminated["time"].startswith("2023-04-10")

    reasons = sorted((headers_of(r)[ERROR_CLASS], headers_of(r)[ERROR_MESSAGE]) for r in letters)
    assert len(reasons) == 6
    messages = "\n".join(f"{code}: {message}" for code, message in reasons)
    assert "rule_violated: data.effective_date: 2023-04-09 is less than 3 months" in messages
    assert "rule_violated: data.given_by: 'hdir' is not a party" in messages
    assert (
        "rule_violated: data: notice was already accepted from 'ks' given 2023-01-10, effective 2023-04-10" in messages
    )
    assert "unauthorised_source: source: '/statsforvalteren/rogaland/rapportering' is not registered" in messages
    assert "rule_violated: data.reporting_date: 2023-05-15 is not owed" in messages
    assert f"invalid_data: data.report_id: '{vestland.report_id}' is already the report of 'vestland'" in messages
