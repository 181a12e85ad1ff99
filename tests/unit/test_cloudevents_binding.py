"""CloudEvents as the spec's Kafka protocol binding has it, checked against the official `cloudevents` SDK: what we
produce it reads as structured events, and what it produces, in either mode, we accept."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from contracts import catalog, topics
from contracts.envelope import CloudEvent
from contracts.events.meetings import ContactMeetingHeld
from contracts.rejections import Reason, Rejected
from runtime.admission import admit
from runtime.records import Incoming
from tests.support.events import vestland_meeting_held
from tests.support.kafka import cloud_event

TYPES = {k.name: k for k in catalog.on_topic(topics.MEETINGS_INGRESS)}
SOURCE = "/statsforvalteren/vestland/moter"


def ours() -> CloudEvent:
    return cloud_event(vestland_meeting_held("m-1"), source=SOURCE, region="vestland")


def incoming(message: kafka.KafkaMessage) -> Incoming:
    key = message.key.encode() if isinstance(message.key, str) else message.key
    headers = tuple((name, value) for name, value in message.headers.items())
    return Incoming("t", 0, 0, key, message.value, headers)


def sdk_event(**extensions: Any) -> SdkEvent:
    event = ours()
    attributes = json.loads(event.to_bytes())
    data = attributes.pop("data")
    attributes["time"] = event.time
    return SdkEvent(attributes | extensions, data)


def test_our_records_carry_no_ce_headers_and_the_sdk_reads_them_as_structured_events() -> None:
    event = ours()
    headers = {name: value.encode() for name, value in event.kafka_headers().items()}
    assert not [name for name in headers if name.startswith("ce_")]
    message = kafka.KafkaMessage(headers=headers, key=event.partitionkey.encode(), value=event.to_bytes())
    read = kafka.from_kafka(message, JSONFormat())
    assert read.get_id() == event.id
    assert read.get_type() == event.type
    assert read.get_extension("correlationid") == event.correlationid
    assert read.get_data() == event.data


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_what_the_sdk_produces_in_either_mode_is_accepted_with_unknown_extensions_kept(mode: str) -> None:
    produced = sdk_event(tenant="kommune-4601", priority=3)
    message = kafka.to_structured_event(produced) if mode == "structured" else kafka.to_binary_event(produced)
    event, data = admit(incoming(message), TYPES)
    assert isinstance(data, ContactMeetingHeld)
    assert event.id == produced.get_id()
    assert (event.model_extra or {})["tenant"] == "kommune-4601"
    assert json.loads(event.to_bytes())["tenant"] == "kommune-4601"  # kept when the event travels on


def test_a_charset_parameter_on_the_content_type_is_accepted() -> None:
    event = ours()
    raw = json.loads(event.to_bytes()) | {"datacontenttype": "application/json; charset=utf-8"}
    headers = (("content-type", b"application/cloudevents+json; charset=UTF-8"),)
    admitted, _ = admit(Incoming("t", 0, 0, event.partitionkey.encode(), json.dumps(raw).encode(), headers), TYPES)
    assert admitted.datacontenttype == "application/json"


def test_a_charset_other_than_utf8_is_refused_with_what_is_expected() -> None:
    event = ours()
    headers = (("content-type", b"application/cloudevents+json; charset=latin-1"),)
    with pytest.raises(Rejected) as caught:
        admit(Incoming("t", 0, 0, event.partitionkey.encode(), event.to_bytes(), headers), TYPES)
    assert caught.value.reason is Reason.NOT_CLOUDEVENT
    assert "charset 'latin-1' is not accepted; JSON events are UTF-8" in caught.value.message


def test_data_base64_is_read_as_the_data() -> None:
    event = ours()
    raw = json.loads(event.to_bytes())
    raw["data_base64"] = base64.b64encode(json.dumps(raw.pop("data")).encode()).decode()
    headers = (("content-type", b"application/cloudevents+json"),)
    _, data = admit(Incoming("t", 0, 0, event.partitionkey.encode(), json.dumps(raw).encode(), headers), TYPES)
    assert isinstance(data, ContactMeetingHeld)


def test_a_key_that_differs_from_the_partitionkey_is_refused() -> None:
    event = ours()
    headers = (("content-type", b"application/cloudevents+json"),)
    with pytest.raises(Rejected) as caught:
        admit(Incoming("t", 0, 0, b"leve-hele-livet-2019-2023/rogaland", event.to_bytes(), headers), TYPES)
    assert caught.value.reason is Reason.WRONG_KEY
    assert caught.value.message == (
        "partitionkey: the record's Kafka key must be the event's partitionkey "
        "'leve-hele-livet-2019-2023/vestland'; got the key b'leve-hele-livet-2019-2023/rogaland'"
    )
    assert caught.value.event is not None  # the dead letter can still name the event


def test_a_record_without_a_key_is_refused_too() -> None:
    event = ours()
    with pytest.raises(Rejected) as caught:
        admit(Incoming("t", 0, 0, None, event.to_bytes(), (("content-type", b"application/cloudevents+json"),)), TYPES)
    assert caught.value.reason is Reason.WRONG_KEY
    assert caught.value.message.endswith("got no key")


def test_batch_mode_is_refused_with_one_clear_reason() -> None:
    event = ours()
    headers = (("content-type", b"application/cloudevents-batch+json"),)
    with pytest.raises(Rejected) as caught:
        admit(Incoming("t", 0, 0, event.partitionkey.encode(), b"[" + event.to_bytes() + b"]", headers), TYPES)
    assert caught.value.reason is Reason.NOT_CLOUDEVENT
    assert "batch mode" in caught.value.message


def test_a_binary_mode_event_with_a_wrong_attribute_names_the_attribute() -> None:
    message = kafka.to_binary_event(sdk_event())
    headers = dict(message.headers) | {"ce_time": b"yesterday"}
    with pytest.raises(Rejected) as caught:
        admit(incoming(kafka.KafkaMessage(headers=headers, key=message.key, value=message.value)), TYPES)
    assert caught.value.reason is Reason.INVALID_DATA
    assert caught.value.message.startswith("time: expected a date and time in RFC 3339")
