"""The first vertical slice: an external ContactMeetingHeld through the real broker and database."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from contracts import catalog, topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, ORIGINAL_OFFSET, ORIGINAL_TOPIC
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import vestland_meeting_held as held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import fetch, running, settings_for

SOURCE = "/statsforvalteren/vestland/moter"


def of_type(events: list[dict[str, Any]], name: str, subject_part: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].endswith(name) and subject_part in (e.get("subject") or "")]


async def test_meeting_held_is_recorded_and_its_action_items_assigned_once_even_if_sent_twice(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    app = create_app(settings_for(MeetingsSettings, infra, run_id))
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    event = cloud_event(held(meeting_id), source=SOURCE, region="vestland")
    async with running(app) as runtime:
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        derived = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "action-item.assigned.v1", meeting_id)) >= 2
        )
        inbox = await fetch(runtime, "SELECT outcome FROM inbox WHERE event_id = $1", event.id)
        stored = await fetch(runtime, "SELECT status, held_on FROM meetings WHERE meeting_id = $1", meeting_id)
        # Give a wrongly duplicated effect time to show up before asserting there is none.
        await bus.publish_event(topics.MEETINGS_INGRESS, cloud_event(held(f"{meeting_id}-x"), source=SOURCE))
        derived = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "meeting.recorded.v1", f"{meeting_id}-x")) >= 1
        )
    assigned = of_type(derived, "action-item.assigned.v1", meeting_id + "-a")
    assert sorted(e["data"]["owner"] for e in assigned) == ["kommune-4601", "ks-vestland"]
    recorded = [e for e in of_type(derived, "meeting.recorded.v1", meeting_id) if e["subject"].endswith(meeting_id)]
    assert len(recorded) == 1
    assert recorded[0]["correlationid"] == event.correlationid
    assert recorded[0]["causationid"] == event.id
    assert [r["outcome"] for r in inbox] == ["processed"]
    assert [(r["status"], r["held_on"]) for r in stored] == [("held", date(2022, 3, 10))]


async def test_each_kind_of_invalid_event_is_dead_lettered_with_its_reason_and_the_next_valid_one_processed(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    app = create_app(settings_for(MeetingsSettings, infra, run_id))
    good = cloud_event(held(f"m-{uuid.uuid4().hex[:8]}"), source=SOURCE, region="vestland")
    valid = json.loads(good.to_bytes())
    wrong_schema = {
        **valid,
        "id": str(uuid.uuid4()),
        "dataschema": catalog.BY_NAME["no.levehelelivet.meeting.cancelled.v1"].dataschema,
    }
    bad_data = {**valid, "id": str(uuid.uuid4()), "data": {**valid["data"], "held_on": "not a date"}}
    unknown_county = cloud_event(held(f"m-{uuid.uuid4().hex[:8]}", county="99"), source=SOURCE)
    other_period = cloud_event(held(f"m-{uuid.uuid4().hex[:8]}", county="12"), source=SOURCE)
    not_cloudevent = {"hello": "world"}
    async with running(app):
        await bus.publish_raw(topics.MEETINGS_INGRESS, b"\x00\xffnot json at all")
        await bus.publish_raw(topics.MEETINGS_INGRESS, json.dumps(not_cloudevent).encode())
        await bus.publish_raw(topics.MEETINGS_INGRESS, json.dumps(wrong_schema).encode())
        await bus.publish_raw(topics.MEETINGS_INGRESS, json.dumps(bad_data).encode())
        await bus.publish_event(topics.MEETINGS_INGRESS, unknown_county)
        await bus.publish_event(topics.MEETINGS_INGRESS, other_period)
        await bus.publish_event(topics.MEETINGS_INGRESS, good)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 6)
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: sum(e["causationid"] == good.id for e in es) >= 5)
    reasons = sorted((headers_of(r)[ERROR_CLASS], headers_of(r)[ERROR_MESSAGE]) for r in letters)
    assert [code for code, _ in reasons] == [
        "invalid_data",
        "invalid_reference",
        "invalid_reference",
        "not_cloudevent",
        "not_json",
        "wrong_dataschema",
    ]
    messages = dict(reasons)
    assert "data.held_on" in messages["invalid_data"]
    county_messages = [m for code, m in reasons if code == "invalid_reference"]
    assert any("unknown county number '99'" in m for m in county_messages)
    assert any("county '12' is not valid on 2022-03-10" in m and "Hordaland" in m for m in county_messages)
    assert "specversion" in messages["not_cloudevent"]
    assert all(headers_of(r)[ORIGINAL_TOPIC] == bus.topic(topics.MEETINGS_INGRESS) for r in letters)
    assert all(int(headers_of(r)[ORIGINAL_OFFSET]) >= 0 for r in letters)
    # Recorded, and its two items assigned and, being past due on today's clock, marked overdue at once.
    caused = sorted(e["type"].split(".")[2:4] for e in derived if e["causationid"] == good.id)
    assert caused == [["action-item", "assigned"]] * 2 + [["action-item", "overdue"]] * 2 + [["meeting", "recorded"]]
    # The original bytes travel unchanged, even when they are not JSON.
    assert [r.value for r in letters if headers_of(r)[ERROR_CLASS] == "not_json"] == [b"\x00\xffnot json at all"]
