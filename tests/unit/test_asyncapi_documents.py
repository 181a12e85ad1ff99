"""The committed AsyncAPI documents are usable by tools: the AsyncAPI parser accepts them, and what they say is true."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from contracts import catalog, dead_letter_headers, limits, topics
from contracts.envelope import CONTENT_TYPE, CloudEvent
from contracts.rejections import Reason
from lhl import asyncapi_messages, export, services
from runtime import deadletter
from runtime.records import Incoming
from runtime.wiring import runtime_of
from tests.support.asyncapi import Verdict, validate

COMMITTED = sorted(export.ASYNCAPI_DIR.glob("*.json"))
DOCUMENTS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in COMMITTED}


def _messages(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    messages: dict[str, dict[str, Any]] = document["components"]["messages"]
    return messages


def _schema(document: dict[str, Any], ref: str) -> jsonschema_rs.Draft7Validator:
    """A validator for one of the document's schemas, resolving its references inside the document."""
    root = {"$ref": ref, "components": {"schemas": document["components"]["schemas"]}}
    return jsonschema_rs.Draft7Validator(root, validate_formats=True)


def _broken_copy(folder: Path) -> Path:
    """The meetings document with two mistakes the parser must catch."""
    document = json.loads((export.ASYNCAPI_DIR / "meetings.json").read_text(encoding="utf-8"))
    held = _messages(document)["no.levehelelivet.meeting.held.v1"]
    held["bindings"]["kafka"]["partitionKey"] = "not a field of the Kafka binding"
    # A receive operation may only take messages of its own channel.
    document["operations"]["receive_lhl_ingress_meetings_v1"]["messages"].append(
        {"$ref": f"#/channels/{topics.DEAD_LETTER}/messages/{asyncapi_messages.DEAD_LETTER}"}
    )
    broken = folder / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    return broken


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Verdict, Path]:
    """One run of the parser over every committed document and a broken copy (a run costs two CPU seconds)."""
    broken = _broken_copy(tmp_path_factory.mktemp("asyncapi"))
    return validate([*COMMITTED, broken]), broken


def test_every_committed_document_passes_the_asyncapi_parser(parsed: tuple[Verdict, Path]) -> None:
    verdict, _ = parsed
    assert COMMITTED, "no AsyncAPI document is committed under docs/asyncapi"

    assert {path.name: verdict.errors_in(path) for path in COMMITTED} == {path.name: [] for path in COMMITTED}


def test_the_parser_check_fails_a_document_that_breaks_the_specification(parsed: tuple[Verdict, Path]) -> None:
    verdict, broken = parsed

    errors = "\n".join(verdict.errors_in(broken))

    assert verdict.exit_code == 1, verdict.output
    assert "bindings/kafka/partitionKey" in errors
    assert "asyncapi3-operation-messages-from-referred-channel" in errors


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_event_type_on_a_channel_is_its_own_message_in_structured_mode(name: str) -> None:
    document = DOCUMENTS[name]
    for topic, channel in document["channels"].items():
        expected = [k.name for k in catalog.on_topic(topic)] or [asyncapi_messages.DEAD_LETTER]
        assert sorted(channel["messages"]) == sorted(expected), topic
    for type_name, message in _messages(document).items():
        if type_name != asyncapi_messages.DEAD_LETTER:
            assert message["name"] == type_name
            assert message["contentType"] == CONTENT_TYPE
            assert message["payload"] == {"$ref": f"#/components/schemas/{type_name}"}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_correlation_id_is_where_the_records_carry_it(name: str) -> None:
    document = DOCUMENTS[name]
    locations = {key: value["location"] for key, value in document["components"]["correlationIds"].items()}
    for type_name, message in _messages(document).items():
        location = locations[message["correlationId"]["$ref"].rsplit("/", 1)[-1]]
        if type_name == asyncapi_messages.DEAD_LETTER:
            assert location == f"$message.header#/{deadletter.CORRELATION_ID}"
        else:
            assert location == "$message.payload#/correlationid"
    assert "correlationid" in CloudEvent.model_json_schema()["required"]
    assert "correlation_id" not in json.dumps(document)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_example_matches_its_message_headers_payload_and_key(name: str) -> None:
    document = DOCUMENTS[name]
    examples = 0
    for type_name, message in _messages(document).items():
        headers = _schema(document, message["headers"]["$ref"])
        payload = _schema(document, message["payload"]["$ref"])
        key = _schema(document, message["bindings"]["kafka"]["key"]["$ref"])
        for example in message.get("examples", []):
            examples += 1
            assert headers.is_valid(example["headers"]), (type_name, list(headers.iter_errors(example["headers"])))
            assert payload.is_valid(example["payload"]), (type_name, list(payload.iter_errors(example["payload"])))
            if type_name != asyncapi_messages.DEAD_LETTER:
                assert key.is_valid(example["payload"]["partitionkey"]), type_name
    assert examples > 0


def test_the_key_binding_takes_partition_keys_and_nothing_else() -> None:
    key = _schema(DOCUMENTS["meetings.json"], "#/components/schemas/PartitionKey")

    assert key.is_valid(topics.partition_key("leve-hele-livet-2019-2023", "vestland"))
    assert key.is_valid(topics.partition_key("leve-hele-livet-2019-2023", None))
    assert not key.is_valid("vestland")
    assert not key.is_valid("leve-hele-livet-2019-2023/Vestland/extra")


def test_a_structured_record_must_say_it_is_a_cloudevent() -> None:
    headers = _schema(DOCUMENTS["meetings.json"], "#/components/schemas/StructuredModeHeaders")

    assert headers.is_valid({"content-type": CONTENT_TYPE})
    assert not headers.is_valid({})
    assert not headers.is_valid({"content-type": "application/json"})
    assert not headers.is_valid({"content-type": CONTENT_TYPE, "traceparent": "not w3c"})


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_dead_letter_headers_are_those_the_runtime_writes(name: str) -> None:
    schemas = DOCUMENTS[name]["components"]["schemas"]
    if "DeadLetterHeaders" not in schemas:
        pytest.skip(f"{name} has no dead-letter channel")
    documented = schemas["DeadLetterHeaders"]

    assert set(documented["properties"]) == set(deadletter.HEADERS)
    assert set(documented["required"]) == {n for n, doc in deadletter.HEADERS.items() if doc.always}


def test_every_dlq_header_name_in_the_runtime_is_documented() -> None:
    """A header named anywhere in runtime/ or in contracts' list of wire names without a HeaderDoc would be missing
    from every document."""
    runtime = Path(deadletter.__file__).parent
    sources = [*runtime.glob("*.py"), Path(dead_letter_headers.__file__)]
    named = {name for path in sources for name in re.findall(r'"(dlq-[a-z-]+)"', path.read_text("utf-8"))}

    assert named, "neither runtime/ nor contracts names a dlq-* header"
    assert named <= set(deadletter.HEADERS)


def test_a_dead_letter_that_knows_everything_carries_exactly_the_documented_headers() -> None:
    # A key and a value each too large to keep whole, so that the headers that say so are set too.
    record = Incoming(topics.MEETINGS_INGRESS, 2, 17, b"k" * limits.MAX_RECORD_BYTES, b"x" * limits.MAX_RECORD_BYTES)
    headers = deadletter.dead_letter_headers(
        record,
        group_id="lhl-meetings",
        reason=Reason.RULE_VIOLATED,
        message="data.meeting_id: a held meeting cannot be cancelled",
        failed_at=datetime(2022, 3, 11, tzinfo=UTC),
        event_source="/statsforvalteren/vestland/moter",
        event_id=str(uuid.uuid4()),
        event_type="no.levehelelivet.meeting.cancelled.v1",
        correlation_id=str(uuid.uuid4()),
        traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
    )

    assert set(deadletter.fitted(record, headers).headers) == set(deadletter.HEADERS)


@pytest.mark.parametrize("service", [s for s in services.available() if s != "audit"])
def test_a_receive_operation_lists_the_types_the_service_acts_on(service: str) -> None:
    document = DOCUMENTS[f"{service}.json"]
    consumes = runtime_of(services.create_app(service)).definition.consumes

    for operation in document["operations"].values():
        if operation["action"] == "receive":
            topic = operation["channel"]["$ref"].rsplit("/", 1)[-1]
            listed = {ref["$ref"].rsplit("/", 1)[-1] for ref in operation["messages"]}
            expected = set(consumes[topic]) if topic in consumes else {asyncapi_messages.DEAD_LETTER}
            assert listed == expected, topic
