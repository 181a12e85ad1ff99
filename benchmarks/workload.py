"""The benchmark's workload: realistic events, signed by their real publisher's key, produced to a prefixed topic.

Two kinds: held meetings as the county governors and the Directorate publish them on the ingress (what the meetings
service and the audit read), and action items as the meetings service derives them (what the evaluations and
notifications services read). Both are valid against the reference data, so no service dead-letters them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from aiokafka import AIOKafkaProducer

from contracts import catalog, topics
from contracts.envelope import CloudEvent, stable_event_id
from contracts.events.base import EventData
from contracts.events.meetings import (
    ActionItem,
    ActionItemAssigned,
    AgendaItem,
    ContactMeetingHeld,
    Decision,
    MeetingKind,
)
from contracts.signing import Signer, sign_event
from contracts.topics import partition_key
from runtime.settings import RuntimeSettings

AGREEMENT: Final = "leve-hele-livet-2019-2023"
REGIONS: Final = ("vestland", "agder", "rogaland", "nordland", "innlandet", "trondelag")
COUNTIES: Final = {
    "vestland": "46",
    "agder": "42",
    "rogaland": "11",
    "nordland": "18",
    "innlandet": "34",
    "trondelag": "50",
}
"""Each region's county code in 2022, when the benchmark's meetings are held."""
NATIONAL_SOURCE: Final = "/hdir/leve-hele-livet"
ITEM_TEXTS: Final = ("Invitere kommunene til læringsnettverk", "Kartlegge status i kommunene")
HELD: Final = catalog.of(ContactMeetingHeld)
ASSIGNED: Final = catalog.of(ActionItemAssigned)


def meetings_source(region: str) -> str:
    return f"/statsforvalteren/{region}/moter"


PUBLISHER_SOURCES: Final = (NATIONAL_SOURCE, *(meetings_source(r) for r in REGIONS))
"""Whose keys sign the ingress workload: the services under test trust them through the benchmark's registry."""


def _envelope(run: str, n: int, source: str, data: EventData, subject: str, region: str | None) -> CloudEvent:
    kind = catalog.of(type(data))
    return CloudEvent(
        specversion="1.0",
        id=stable_event_id(run, str(n)),
        source=source,
        type=kind.name,
        time=datetime(2022, 3, 10, 16, tzinfo=UTC),
        subject=subject,
        dataschema=kind.dataschema,
        # One correlation id per event: the latency run finds each event's records (and what it caused) by it.
        correlationid=f"{run}-c{n}",
        partitionkey=partition_key(AGREEMENT, region),
        data=data.model_dump(mode="json"),
    )


def held_meeting(run: str, n: int) -> CloudEvent:
    """Minutes of a regional meeting (one in seven national), with an agenda, a decision and two action items."""
    meeting_id = f"{run}-m{n}"
    national = n % 7 == 6
    region = REGIONS[n % len(REGIONS)]
    owners = ("ks", "ks") if national else (f"ks-{region}", f"usht-{region}")
    items = tuple(
        ActionItem(action_item_id=f"{meeting_id}-a{i}", text=text, owner=owner, due_on=date(2022, 4 + i, 1))
        for i, (text, owner) in enumerate(
            zip(("Invitere kommunene til læringsnettverk", "Kartlegge status"), owners, strict=True)
        )
    )
    if national:
        data = ContactMeetingHeld(
            meeting_id=meeting_id,
            agreement_id=AGREEMENT,
            kind=MeetingKind.NATIONAL,
            held_on=date(2022, 3, 10),
            organiser="hdir",
            participants=("hod", "ks", "hdir"),
            action_items=items,
        )
        return _envelope(run, n, NATIONAL_SOURCE, data, f"meeting/{meeting_id}", None)
    data = ContactMeetingHeld(
        meeting_id=meeting_id,
        agreement_id=AGREEMENT,
        kind=MeetingKind.REGIONAL,
        region=region,
        county=COUNTIES[region],
        held_on=date(2022, 3, 10),
        organiser=f"sf-{region}",
        participants=(f"sf-{region}", f"ks-{region}", f"usht-{region}"),
        agenda=(AgendaItem(title="Mat og måltider i hjemmetjenesten", focus_areas=("mat-og-maltider",)),),
        decisions=(Decision(decision_id=f"{meeting_id}-d1", text="Felles læringsnettverk", focus_areas=()),),
        action_items=items,
    )
    return _envelope(run, n, meetings_source(region), data, f"meeting/{meeting_id}", region)


def assigned_item(run: str, n: int) -> CloudEvent:
    """An action item as the meetings service derives it from a held meeting, spread over the regions."""
    region = REGIONS[n % len(REGIONS)]
    data = ActionItemAssigned(
        action_item_id=f"{run}-a{n}",
        meeting_id=f"{run}-m{n // 4}",
        agreement_id=AGREEMENT,
        region=region,
        owner=f"ks-{region}",
        text="Invitere kommunene i regionen til læringsnettverk om mat og måltider",
        due_on=date(2022, 4, 1),
    )
    return _envelope(run, n, "/lhl/meetings", data, f"action-item/{data.action_item_id}", region)


@dataclass(frozen=True)
class Signed:
    """An event's record, signed before any clock starts, so signing is not part of what is measured."""

    event: CloudEvent
    value: bytes
    key: bytes


def signed(made: Sequence[CloudEvent], signers: dict[str, Signer]) -> list[Signed]:
    out = []
    for event in made:
        sealed = sign_event(event, signers[event.source])
        out.append(Signed(sealed, sealed.to_bytes(), sealed.partitionkey.encode()))
    return out


def producer(settings: RuntimeSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**settings.kafka.options(), acks="all", linger_ms=5)


async def produce(settings: RuntimeSettings, topic: str, records: Sequence[Signed]) -> float:
    """Produce a backlog as fast as the broker takes it; the seconds it took."""
    sender = producer(settings)
    await sender.start()
    started = time.perf_counter()
    try:
        pending = [await sender.send(settings.topic(topic), r.value, key=r.key) for r in records]
        await asyncio.gather(*pending)
    finally:
        await sender.stop()
    return time.perf_counter() - started


async def paced(sender: AIOKafkaProducer, topic: str, records: Sequence[Signed], rate: float) -> dict[str, float]:
    """Offer the records at a fixed rate, in ticks of 10 ms; each event id's wall-clock publish time."""
    published: dict[str, float] = {}
    tick = 0.01
    started = time.monotonic()
    sent, pending = 0, []
    while sent < len(records):
        due = min(len(records), int((time.monotonic() - started) * rate) + 1)
        for record in records[sent:due]:
            published[record.event.id] = time.time()
            pending.append(await sender.send(topic, record.value, key=record.key))
        sent = due
        await asyncio.sleep(tick)
    await asyncio.gather(*pending)
    return published


TOPIC_OF: Final = {HELD.name: topics.MEETINGS_INGRESS, ASSIGNED.name: topics.MEETINGS_EVENTS}
