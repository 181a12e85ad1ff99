"""Only what its source signed is acted on: forged, altered and unsigned events are dead-lettered `unauthenticated`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from contracts.envelope import CloudEvent
from contracts.signing import sign_event
from runtime import keystore
from runtime.clock import ManualClock
from tests.integration.meetings.helpers import SOURCE, meetings_app, wait_until
from tests.support.events import vestland_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import fetch, running
from tests.support.signing import SINCE, keys_for_tests
from tests.unit.meetings.builders import new_id

INNLANDET_MEETINGS = "/statsforvalteren/innlandet/moter"


def minutes() -> CloudEvent:
    """Vestland's minutes with one action item, unsigned."""
    return cloud_event(vestland_meeting_held(new_id("m")), source=SOURCE, region="vestland")


async def dead_letters(bus: Bus, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    return await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= count)


async def test_minutes_signed_by_another_county_governor_under_vestlands_source_are_dead_lettered(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    forged = sign_event(minutes(), keys_for_tests().signer(INNLANDET_MEETINGS))
    async with running(meetings_app(infra, run_id, ManualClock(datetime(2022, 3, 12, tzinfo=UTC)))) as runtime:
        await bus.publish_event(topics.MEETINGS_INGRESS, forged)
        [letter] = await dead_letters(bus, 1)
        meetings = await fetch(
            runtime, "SELECT meeting_id FROM meetings WHERE meeting_id = $1", forged.data["meeting_id"]
        )
    headers = headers_of(letter)
    assert headers[ERROR_CLASS] == "unauthenticated"
    assert "claims source '/statsforvalteren/vestland/moter' of sf-vestland" in headers[ERROR_MESSAGE]
    assert "sf-innlandet" in headers[ERROR_MESSAGE]
    assert meetings == []


async def test_minutes_changed_after_signing_are_dead_lettered_and_do_not_block_the_genuine_minutes(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    genuine = keys_for_tests().sign(minutes())
    item = genuine.data["action_items"][0]
    phishing = {**item, "text": "Logg inn på http://ks-vestland.example.net for å se oppgaven"}
    altered = genuine.model_copy(update={"data": {**genuine.data, "action_items": [phishing]}})
    async with running(meetings_app(infra, run_id, ManualClock(datetime(2022, 3, 12, tzinfo=UTC)))) as runtime:
        await bus.publish_event(topics.MEETINGS_INGRESS, altered)  # same source and id, signature of the original
        [letter] = await dead_letters(bus, 1)
        await bus.publish_event(topics.MEETINGS_INGRESS, genuine)
        items = await wait_until(
            lambda: fetch(runtime, "SELECT text FROM action_items WHERE action_item_id = $1", item["action_item_id"]),
            lambda rows: len(rows) == 1,
        )
    assert headers_of(letter)[ERROR_CLASS] == "unauthenticated"
    assert "the data was changed after signing" in headers_of(letter)[ERROR_MESSAGE]
    assert [r["text"] for r in items] == [item["text"]]


async def test_unsigned_minutes_are_dead_lettered_saying_they_are_not_signed(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    unsigned = minutes()
    async with running(meetings_app(infra, run_id, ManualClock(datetime(2022, 3, 12, tzinfo=UTC)))):
        await bus.publish_raw(topics.MEETINGS_INGRESS, unsigned.to_bytes(), key=unsigned.partitionkey)
        [letter] = await dead_letters(bus, 1)
    headers = headers_of(letter)
    assert headers[ERROR_CLASS] == "unauthenticated"
    assert headers[ERROR_MESSAGE].startswith("the event is not signed")
    assert letter.value == unsigned.to_bytes()


async def test_a_retired_key_is_accepted_before_its_end_and_refused_from_it(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    keys = keys_for_tests()
    old = keystore.create_key_file(keys.directory / "rotation" / f"{run_id}.pem")
    keystore.register(keys.registry, old, [SOURCE], SINCE)
    end = datetime(2022, 6, 1, tzinfo=UTC)
    keystore.retire(keys.registry, old.key_id, end)
    clock = ManualClock(end - timedelta(days=1))
    before, after = sign_event(minutes(), old), sign_event(minutes(), old)
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        await bus.publish_event(topics.MEETINGS_INGRESS, before)
        accepted = await wait_until(
            lambda: fetch(runtime, "SELECT 1 FROM meetings WHERE meeting_id = $1", before.data["meeting_id"]),
            lambda rows: len(rows) == 1,
        )
        clock.set(end)
        await bus.publish_event(topics.MEETINGS_INGRESS, after)
        [letter] = await dead_letters(bus, 1)
    assert accepted
    headers = headers_of(letter)
    assert headers[ERROR_CLASS] == "unauthenticated"
    assert f"key {old.key_id}" in headers[ERROR_MESSAGE]
    assert "until 2022-06-01T00:00:00Z, not at 2022-06-01T00:00:00Z" in headers[ERROR_MESSAGE]
