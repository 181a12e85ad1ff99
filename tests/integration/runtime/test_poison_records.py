"""Records that would stall a naive consumer: text PostgreSQL refuses (NUL, a lone surrogate, 10 kB ids), JSON
nested too deep to parse, headers that are not UTF-8. Each is dead-lettered with a reason (or, when only a header
is odd, processed), and the service goes on with the next event instead of retrying the poison one for ever."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID, EVENT_TYPE
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import fetch, running, settings_for
from tests.support.signing import keys_for_tests


async def test_nul_and_lone_surrogates_are_dead_lettered_and_the_next_event_is_processed(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    source = NATIONAL_SECRETARIAT
    poisons = []
    for marker, escaped in (("NUL", b"\\u0000"), ("SURROGATE", b"\\ud800")):
        event = cloud_event(national_meeting_held(item_text=f"Invitere {marker} kommunene"), source=source)
        raw = event.to_bytes().replace(marker.encode(), escaped)
        assert json.loads(raw)  # still valid JSON: only PostgreSQL refuses it
        poisons.append((event, raw))
    healthy = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=source)
    app = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    async with running(app) as runtime:
        for event, raw in poisons:
            await bus.publish_raw(topics.MEETINGS_INGRESS, raw, key=event.partitionkey)
        await bus.publish_event(topics.MEETINGS_INGRESS, healthy)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 2)
        healthy_meeting = healthy.data["meeting_id"]
        recorded = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: any(e["data"].get("meeting_id") == healthy_meeting for e in es)
        )
        items = await fetch(runtime, "SELECT text FROM action_items")
    got = {headers_of(r)[EVENT_ID]: (headers_of(r)[ERROR_CLASS], headers_of(r)[ERROR_MESSAGE]) for r in letters}
    assert set(got) == {event.id for event, _ in poisons}
    (nul, _), (surrogate, _) = poisons
    assert got[nul.id] == (
        "invalid_data",
        "data.action_items.0.text: text must not contain the NUL character (U+0000) or a lone surrogate",
    )
    assert got[surrogate.id][0] == "invalid_data"
    assert got[surrogate.id][1].startswith("data.action_items.0.text: ")
    assert any(e["data"].get("meeting_id") == healthy_meeting for e in recorded)
    assert [r["text"] for r in items] == ["Invitere kommunene"]


async def test_an_invalid_event_whose_id_postgresql_cannot_store_is_dead_lettered_under_its_coordinates(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    source = NATIONAL_SECRETARIAT
    unstorable = [
        {"specversion": "1.0", "id": "a\u0000b", "source": source, "type": "nonsense"},
        {"specversion": "1.0", "id": secrets.token_hex(5_000), "source": source, "type": "nonsense"},
        {
            "specversion": "1.0",
            "id": "ok",
            "source": source,
            "type": f"no.levehelelivet.x.{secrets.token_hex(5_000)}.v1",
        },
    ]
    healthy = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=source)
    app = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    async with running(app):
        for raw in unstorable:
            await bus.publish_raw(topics.MEETINGS_INGRESS, json.dumps(raw).encode(), key="poison")
        await bus.publish_event(topics.MEETINGS_INGRESS, healthy)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 3)
        healthy_meeting = healthy.data["meeting_id"]
        recorded = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: any(e["data"].get("meeting_id") == healthy_meeting for e in es)
        )
    identities = [headers_of(r)[EVENT_ID] for r in letters]
    assert identities[:2] == [f"{r.partition}:{r.offset}" for r in letters[:2]]
    assert identities[2] == "ok"
    assert EVENT_TYPE not in headers_of(letters[2])
    assert any(e["data"].get("meeting_id") == healthy_meeting for e in recorded)


def nested(depth: int) -> bytes:
    """A CloudEvent-shaped record whose data nests `depth` arrays deep."""
    return b'{"specversion": "1.0", "id": "deep", "source": "/x", "data": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


async def test_json_nested_deeper_than_any_event_is_dead_lettered_and_the_next_event_is_processed(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    healthy = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=NATIONAL_SECRETARIAT)
    app = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    async with running(app):
        # Deeper than Python's parser recurses, and deep enough to exhaust a recursive walk after parsing.
        for depth in (100_000, 900):
            await bus.publish_raw(topics.MEETINGS_INGRESS, nested(depth), key="deep")
        await bus.publish_event(topics.MEETINGS_INGRESS, healthy)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 2)
        healthy_meeting = healthy.data["meeting_id"]
        recorded = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: any(e["data"].get("meeting_id") == healthy_meeting for e in es)
        )
    reasons = [(headers_of(r)[ERROR_CLASS], headers_of(r)[ERROR_MESSAGE]) for r in letters]
    too_deep = "the value nests JSON deeper than 64 levels, which no event of the contract does"
    assert reasons == [("invalid_data", too_deep), ("invalid_data", too_deep)]
    assert any(e["data"].get("meeting_id") == healthy_meeting for e in recorded)


async def test_an_event_with_a_header_that_is_not_utf8_is_still_processed(infra: Infra, run_id: str, bus: Bus) -> None:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    event = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=NATIONAL_SECRETARIAT)
    app = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    producer = AIOKafkaProducer(**infra.kafka.options())
    async with running(app):
        await producer.start()
        try:
            headers = [("content-type", b"application/cloudevents+json"), ("x-sender", b"\xff\xfe")]
            signed = keys_for_tests().sign(event).to_bytes()
            await producer.send_and_wait(
                bus.topic(topics.MEETINGS_INGRESS), signed, key=event.partitionkey.encode(), headers=headers
            )
        finally:
            await producer.stop()
        meeting = event.data["meeting_id"]
        recorded = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: any(e["data"].get("meeting_id") == meeting for e in es)
        )
    assert any(e["causationid"] == event.id for e in recorded)
