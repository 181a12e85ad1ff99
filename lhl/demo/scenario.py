"""The demo's script: what the publishing systems send over the whole term, day by day, deterministically.

Pure: it builds CloudEvents from the contracts and the reference data and says when each is sent; the runner
publishes them on a simulated clock.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from contracts import catalog, oslo_calendar, topics
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from contracts.events.evaluations import (
    AnnualEvaluationCompleted,
    FocusAreaStatus,
    RegionalStatusReportSubmitted,
    TerminationNoticeGiven,
)
from contracts.events.meetings import (
    ActionItem,
    ActionItemCompleted,
    AgendaItem,
    ContactMeetingHeld,
    ContactMeetingScheduled,
    Decision,
    MeetingKind,
)
from contracts.reference import Agreement, Regions
from contracts.topics import partition_key

VESTLAND_MEETINGS = "/statsforvalteren/vestland/moter"
FORGER_KEY = "/statsforvalteren/rogaland/moter"
"""The demo's forger holds the key of Rogaland's meeting system and publishes as Vestland's."""
CARELESS_SOURCE = "/ks/vestland"
"""The one careless publisher of the demo: a regional KS system that sends malformed events now and then."""


@dataclass(frozen=True)
class Publication:
    """One record a publishing system sends at a moment of simulated time."""

    at: datetime
    topic: str
    value: bytes
    key: str | None
    what: str
    signed_as: str | None = None
    """Whose registered key signs it when it is sent: its own source's, another's (a forger), or none."""


def _at(day: date, hour: int = 10) -> datetime:
    return oslo_calendar.at_hour(day, hour).astimezone(UTC)


def _event(data: EventData, source: str, at: datetime, region: str | None, agreement_id: str) -> CloudEvent:
    kind = catalog.of(type(data))
    return CloudEvent(
        specversion="1.0",
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{source}:{kind.name}:{data!r}")),
        source=source,
        type=kind.name,
        time=at,
        dataschema=kind.dataschema,
        correlationid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-correlation:{kind.name}:{data!r}")),
        partitionkey=partition_key(agreement_id, region),
        data=data.model_dump(mode="json"),
    )


class Script:
    """Builds the whole term's publications for one agreement."""

    def __init__(self, agreement: Agreement, regions: Regions, seed: int = 2019) -> None:
        self.agreement = agreement
        self.regions = regions
        self.random = random.Random(seed)
        self.out: list[Publication] = []

    def publish(self, data: EventData, source: str, at: datetime, region: str | None, what: str) -> CloudEvent:
        event = _event(data, source, at, region, self.agreement.id)
        topic = catalog.of(type(data)).topic
        self.out.append(Publication(at, topic, event.to_bytes(), event.partitionkey, what, signed_as=source))
        return event

    def build(self, years: range) -> list[Publication]:
        for year in years:
            self._national_meetings(year)
            for office in self.regions.county_governor_offices:
                self._regional_meetings(year, office.id)
                self._reports(year, office.id)
            self._evaluation(year)
        self._careless_publisher(years)
        self._forger(years.start)
        return sorted(self.out, key=lambda p: (p.at, p.what))

    # Contact meetings, decisions and action items.

    def _municipality(self, region: str, on: date) -> str:
        counties = self.regions.office(region, on).counties_on(on)
        return f"kommune-{self.random.choice(counties)}{self.random.randint(1, 30):02d}"

    def _meeting(
        self, meeting_id: str, kind: MeetingKind, region: str | None, held_on: date, owners: list[str], source: str
    ) -> None:
        areas = [f.id for f in self.agreement.focus_areas]
        organiser = "hdir" if region is None else f"sf-{region}"
        participants = (
            ["hod", "ks", "hdir"]
            if region is None
            else [f"sf-{region}", f"ks-{region}", f"usht-{region}", self._municipality(region, held_on)]
        )
        items = []
        for n, owner in enumerate(owners, start=1):
            due = held_on + timedelta(days=self.random.choice((21, 30, 45)))
            items.append(ActionItem(action_item_id=f"{meeting_id}-a{n}", text=self._task(), owner=owner, due_on=due))
        scheduled_at = _at(held_on - timedelta(days=30), 9)
        self.publish(
            ContactMeetingScheduled(
                meeting_id=meeting_id,
                agreement_id=self.agreement.id,
                kind=kind,
                region=region,
                scheduled_for=_at(held_on, 10),
                title=f"Kontaktmøte {held_on:%d.%m.%Y}",
                organiser=organiser,
            ),
            source,
            scheduled_at,
            region,
            f"{meeting_id} scheduled",
        )
        area = self.random.choice(areas)
        self.publish(
            ContactMeetingHeld(
                meeting_id=meeting_id,
                agreement_id=self.agreement.id,
                kind=kind,
                region=region,
                held_on=held_on,
                organiser=organiser,
                participants=tuple(participants),
                agenda=(AgendaItem(title="Status i arbeidet med reformen", focus_areas=(area,)),),
                decisions=(
                    Decision(decision_id=f"{meeting_id}-d1", text="Videreføre læringsnettverket", focus_areas=(area,)),
                ),
                action_items=tuple(items),
            ),
            source,
            _at(held_on, 16),
            region,
            f"{meeting_id} held",
        )
        for item in items:
            chance = self.random.random()
            if chance < 0.1:
                continue  # never completed: it stays open and goes overdue
            done = (
                item.due_on + timedelta(days=self.random.randint(3, 20))
                if chance < 0.3
                else (item.due_on - timedelta(days=self.random.randint(1, 10)))
            )
            self.publish(
                ActionItemCompleted(
                    action_item_id=item.action_item_id,
                    meeting_id=meeting_id,
                    agreement_id=self.agreement.id,
                    completed_on=done,
                    completed_by=item.owner,
                ),
                source,
                _at(done, 14),
                region,
                f"{item.action_item_id} completed",
            )

    def _task(self) -> str:
        return self.random.choice(
            (
                "Invitere kommunene til dialogmøte",
                "Oppdatere kartleggingen av kommunenes planarbeid",
                "Samle gode eksempler på måltidsordninger",
                "Forberede samling i læringsnettverket",
                "Følge opp kommuner som ikke har startet planleggingen",
            )
        )

    def _national_meetings(self, year: int) -> None:
        for n, month in enumerate((2, 5, 9, 11), start=1):
            held_on = date(year, month, 10 + self.random.randint(0, 8))
            owners = self.random.sample(["hod", "ks", "hdir"], k=self.random.randint(1, 2))
            self._meeting(f"nasjonalt-{year}-{n}", MeetingKind.NATIONAL, None, held_on, owners, "/hdir/leve-hele-livet")

    def _regional_meetings(self, year: int, region: str) -> None:
        months = (3, 6, 10) if not (region == "nordland" and year == 2020) else (3,)  # Nordland pauses in 2020
        for n, month in enumerate(months, start=1):
            held_on = date(year, month, 5 + self.random.randint(0, 15))
            owners = self.random.sample([f"sf-{region}", f"ks-{region}", f"usht-{region}"], k=1)
            self._meeting(
                f"{region}-{year}-{n}",
                MeetingKind.REGIONAL,
                region,
                held_on,
                owners,
                f"/statsforvalteren/{region}/moter",
            )

    # Regional status reports.

    def _reports(self, year: int, region: str) -> None:
        for index, reporting_date in enumerate(self.agreement.reporting.dates_in(year)):
            if region == "troms-finnmark" and (year, index) == (2021, 1):
                continue  # the one missing report of the demo
            late = self.random.random() < 0.12
            day = (
                reporting_date + timedelta(days=self.random.randint(2, 12))
                if late
                else (reporting_date - timedelta(days=self.random.randint(0, 9)))
            )
            progress = (year - 2019) * 2 + index
            statuses = []
            for area in self.agreement.focus_areas:
                reached = min(10 + progress * 4 + self.random.randint(0, 5), 60)
                statuses.append(
                    FocusAreaStatus(
                        focus_area=area.id,
                        municipalities_reached=reached,
                        planning=reached * 3 // 4,
                        decided=reached // 2,
                        implementing=reached // 3,
                    )
                )
            self.publish(
                RegionalStatusReportSubmitted(
                    report_id=f"{region}-{reporting_date:%Y-%m-%d}",
                    agreement_id=self.agreement.id,
                    region=region,
                    reporting_date=reporting_date,
                    submitted_by=f"sf-{region}",
                    focus_areas=tuple(statuses),
                    summary="Arbeidet går som planlagt; flere kommuner har vedtatt planer.",
                ),
                f"/statsforvalteren/{region}/rapportering",
                _at(day, 12),
                region,
                f"report {region} {reporting_date}{' (late)' if late else ''}",
            )

    # The annual evaluation.

    def _evaluation(self, year: int) -> None:
        meeting = self.agreement.evaluation.meeting_in(year)
        if not self.agreement.in_term(meeting):
            return
        deadline = meeting + timedelta(days=self.agreement.evaluation.completion_deadline_days_after_meeting)
        done = deadline + timedelta(days=12) if year == 2021 else meeting + timedelta(days=10)  # 2021 is late
        self.publish(
            AnnualEvaluationCompleted(
                agreement_id=self.agreement.id,
                year=year,
                completed_on=done,
                completed_by="hod",
                summary="Partene er enige om at arbeidet videreføres.",
            ),
            "/hod/saksbehandling",
            _at(done, 11),
            None,
            f"evaluation {year} completed",
        )

    # The careless publisher.

    def _careless_publisher(self, years: range) -> None:
        first = years.start
        bad_report = RegionalStatusReportSubmitted(
            report_id=f"vestland-feil-{first}",
            agreement_id=self.agreement.id,
            region="rogaland",
            reporting_date=date(first, 5, 15),
            submitted_by="sf-rogaland",
            focus_areas=(
                FocusAreaStatus(
                    focus_area="helsehjelp", municipalities_reached=3, planning=1, decided=1, implementing=0
                ),
            ),
            summary="Sendt fra feil system.",
        )
        self.publish(
            bad_report, CARELESS_SOURCE, _at(date(first, 5, 2)), "rogaland", "careless: report for another office"
        )
        self.out.append(
            Publication(
                _at(date(first, 9, 3)), topics.MEETINGS_INGRESS, b"<xml>referat</xml>", None, "careless: not JSON"
            )
        )
        stale = dict(
            json.loads(
                _event(bad_report, CARELESS_SOURCE, _at(date(first, 9, 4)), "vestland", self.agreement.id).to_bytes()
            )
        )
        stale["data"]["focus_areas"][0]["municipalities_reached"] = -4
        stale["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo:careless:{first}"))
        self.out.append(
            Publication(
                _at(date(first, 9, 4)),
                topics.REPORTS_INGRESS,
                json.dumps(stale).encode(),
                stale["partitionkey"],
                "careless: negative count",
                signed_as=CARELESS_SOURCE,
            )
        )
        if len(years) > 1:
            later = years.start + 1
            self.publish(
                ContactMeetingHeld(
                    meeting_id=f"vestland-feil-{later}",
                    agreement_id=self.agreement.id,
                    kind=MeetingKind.REGIONAL,
                    region="vestland",
                    county="12",
                    held_on=date(later, 2, 3),
                    organiser="ks-vestland",
                    participants=("sf-vestland", "ks-vestland"),
                ),
                CARELESS_SOURCE,
                _at(date(later, 2, 4)),
                "vestland",
                "careless: county valid only in 2019",
            )
        last = years.stop - 1
        if self.agreement.in_term(date(last, 11, 1)):
            self.publish(
                TerminationNoticeGiven(
                    agreement_id=self.agreement.id,
                    given_by="ks",
                    notice_date=date(last, 11, 1),
                    effective_date=date(last, 12, 1),
                    reason="Sendt ved en feil.",
                ),
                "/ks/sekretariat",
                _at(date(last, 11, 1)),
                None,
                "KS: notice shorter than three months (rejected)",
            )

    def _forger(self, year: int) -> None:
        """Minutes under Vestland's source with an action item that phishes, signed with another office's key."""
        at = _at(date(year, 10, 7))
        forged = ContactMeetingHeld(
            meeting_id=f"vestland-forfalsket-{year}",
            agreement_id=self.agreement.id,
            kind=MeetingKind.REGIONAL,
            region="vestland",
            county="12" if year < 2020 else "46",
            held_on=date(year, 10, 6),
            organiser="sf-vestland",
            participants=("sf-vestland", "ks-vestland"),
            action_items=(
                ActionItem(
                    action_item_id=f"vestland-forfalsket-{year}-a1",
                    text="Logg inn på http://ks-vestland.example.net for å se oppgaven",
                    owner="ks-vestland",
                    due_on=date(year, 10, 20),
                ),
            ),
        )
        event = _event(forged, VESTLAND_MEETINGS, at, "vestland", self.agreement.id)
        what = "forger: Vestland's minutes signed with Rogaland's key (unauthenticated)"
        topic = catalog.of(ContactMeetingHeld).topic
        self.out.append(Publication(at, topic, event.to_bytes(), event.partitionkey, what, signed_as=FORGER_KEY))
