"""Through the real broker: an event the official CloudEvents SDK wrote in binary mode is processed like one in
structured mode, and a record keyed otherwise than its partitionkey is dead-lettered saying so."""

from __future__ import annotations

import json
import uuid

from cloudevents.core.bindings import kafka
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import vestland_meeting_held as held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import running, settings_for
from tests.support.signing import keys_for_tests

SOURCE = "/statsforvalteren/vestland/moter"


async def test_a_binary_mode_event_is_processed_and_a_wrongly_keyed_one_dead_lettered(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    app = create_app(settings_for(MeetingsSettings, infra, run_id))
    binary = cloud_event(held(f"m-{uuid.uuid4().hex[:8]}"), source=SOURCE, region="vestland")
    attributes = json.loads(binary.to_bytes())
    data = attributes.pop("data")
    message = kafka.to_binary_event(SdkEvent(attributes | {"time": binary.time, "tenant": "x"}, data))
    signed_headers = keys_for_tests().sign_binary(message.value, dict(message.headers), str(message.key).encode())
    wrongly_keyed = keys_for_tests().sign(
        cloud_event(held(f"m-{uuid.uuid4().hex[:8]}"), source=SOURCE, region="vestland")
    )
    async with running(app):
        await bus.publish_raw(
            topics.MEETINGS_INGRESS,
            message.value,
            key=str(message.key),
            headers={name: value.decode() for name, value in signed_headers.items()},
        )
        await bus.publish_raw(
            topics.MEETINGS_INGRESS,
            wrongly_keyed.to_bytes(),
            key="leve-hele-livet-2019-2023/national",
            headers={"content-type": "application/cloudevents+json"},
        )
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == binary.id for e in es))
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
    assert "no.levehelelivet.meeting.recorded.v1" in [e["type"] for e in derived if e["causationid"] == binary.id]
    assert [headers_of(r)[ERROR_CLASS] for r in letters] == ["wrong_key"]
    assert (
        "must be the event's partitionkey 'leve-hele-livet-2019-2023/vestland'" in headers_of(letters[0])[ERROR_MESSAGE]
    )
