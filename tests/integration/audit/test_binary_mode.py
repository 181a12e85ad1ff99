"""An event sent in the CloudEvents Kafka binding's binary mode is audited as the event it is: its attributes from
the `ce_` headers, its partitionkey from the record's key (kept, and hashed, with the record), and its signature
checked again, offline, by `audit verify`."""

from __future__ import annotations

import json
from pathlib import Path

from cloudevents.core.bindings import kafka
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from contracts import topics
from tests.integration.audit.helpers import audit_cli, audit_settings, jsonl, running_audit, wait_for_count
from tests.support.events import vestland_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.signing import keys_for_tests

SOURCE = "/statsforvalteren/vestland/moter"


async def test_a_signed_binary_mode_event_is_audited_as_an_event_and_verifies_offline(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    event = cloud_event(vestland_meeting_held("m-binary"), source=SOURCE, region="vestland")
    attributes = json.loads(event.to_bytes())
    data = attributes.pop("data")
    message = kafka.to_binary_event(SdkEvent(attributes | {"time": event.time}, data))
    key = event.partitionkey  # the SDK keys the record by partitionkey and leaves it out of the headers
    headers = keys_for_tests().sign_binary(message.value, dict(message.headers), key.encode())
    async with running_audit(settings) as audit:
        await bus.publish_raw(
            topics.MEETINGS_INGRESS,
            message.value,
            key=key,
            headers={name: value.decode() for name, value in headers.items()},
        )
        await wait_for_count(audit, 1)
    [recorded] = jsonl(await audit_cli(settings, "trail", "--output", "jsonl"))
    verified = await audit_cli(settings, "verify")
    assert recorded["kind"] == "event"
    assert (recorded["event_source"], recorded["event_id"]) == (SOURCE, event.id)
    assert recorded["region"] == "vestland"
    assert verified.exit_code == 0, verified.stdout
