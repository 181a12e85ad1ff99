"""An accepted termination ends the meetings the agreement asks for: no watch beyond it, no meeting after it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts import reference, topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID
from contracts.events.evaluations import AgreementTerminated, RegionalReportDue, TerminationNoticeAccepted
from contracts.events.meetings import MeetingKind
from runtime.clock import ManualClock
from tests.integration.meetings.helpers import meetings_app, of_type, publish, wait_until
from tests.integration.meetings.test_meetings_contact_watch import NATIONAL_DUE, VESTLAND_DUE, fire_at, hold_and_wait
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import fetch, running
from tests.unit.meetings.builders import held, new_id

AGREEMENT = reference.DEFAULT_AGREEMENT_ID
EVALUATIONS = "/lhl/evaluations"
TERMINATED_FROM = date(2022, 8, 1)  # between the national watch's due day (2022-07-09) and Vestland's (2022-08-30)


async def test_gaps_after_the_termination_are_not_warned_of_and_meetings_after_it_are_rejected(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 5, 2, 12, tzinfo=UTC))
    accepted = TerminationNoticeAccepted(
        agreement_id=AGREEMENT, given_by="ks", notice_date=date(2022, 5, 2), effective_date=TERMINATED_FROM
    )
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        await hold_and_wait(bus, new_id("m"), held_on=date(2022, 3, 10), kind=MeetingKind.NATIONAL, region=None)
        await hold_and_wait(bus, new_id("m"), held_on=date(2022, 5, 1))
        # The evaluations service's other events pass by: not dead-lettered, not acted on.
        due = RegionalReportDue(
            agreement_id=AGREEMENT, region="vestland", reporting_date=date(2022, 5, 15), days_left=13
        )
        await bus.publish_event(topics.EVALUATIONS_EVENTS, cloud_event(due, source=EVALUATIONS, region="vestland"))
        await bus.publish_event(topics.EVALUATIONS_EVENTS, cloud_event(accepted, source=EVALUATIONS))
        terminations = await wait_until(
            lambda: fetch(runtime, "SELECT terminated_from FROM agreement_terminations"), lambda rows: len(rows) == 1
        )
        await fire_at(runtime, clock, NATIONAL_DUE)
        await fire_at(runtime, clock, VESTLAND_DUE)
        # On the day, the evaluations service says it again; the date already in force stands.
        terminated = AgreementTerminated(agreement_id=AGREEMENT, effective_date=TERMINATED_FROM, given_by="ks")
        await bus.publish_event(topics.EVALUATIONS_EVENTS, cloud_event(terminated, source=EVALUATIONS))
        # Minutes of a meeting held before the end, arriving late, are recorded, but arm no watch past the end.
        before = new_id("m")
        await hold_and_wait(bus, before, held_on=date(2022, 7, 20))
        after = await publish(bus, held(new_id("m"), held_on=date(2022, 8, 15)))
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
        events = await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "recorded")) >= 3)
        pending = await fetch(
            runtime,
            "SELECT timer_key FROM timers WHERE starts_with(timer_key, 'contact-meetings/')"
            " AND fired_at IS NULL AND cancelled_at IS NULL",
        )
        in_force = await fetch(runtime, "SELECT terminated_from, learnt_from FROM agreement_terminations")

    assert [r["terminated_from"] for r in terminations] == [TERMINATED_FROM]
    overdue = [(e["data"]["region"], e["data"]["last_held_on"]) for e in of_type(events, "contact-meetings.overdue")]
    # The national gap opened before the termination took effect; Vestland's would have opened after it.
    assert (None, "2022-03-10") in overdue
    assert ("vestland", "2022-05-01") not in overdue
    assert len(of_type(events, "recorded", f"meeting/{before}")) == 1
    assert pending == []
    assert [(r["terminated_from"], r["learnt_from"]) for r in in_force] == [
        (TERMINATED_FROM, "no.levehelelivet.agreement.termination-notice-accepted.v1")
    ]
    [letter] = letters
    headers = headers_of(letter)
    assert headers[EVENT_ID] == after.id
    assert headers[ERROR_CLASS] == "rule_violated"
    assert headers[ERROR_MESSAGE] == (
        f"data.held_on: 2022-08-15 is after the agreement {AGREEMENT} ended: its termination took effect on 2022-08-01"
    )
