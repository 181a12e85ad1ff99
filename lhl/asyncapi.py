"""A service's AsyncAPI 3 document: what its app subscribes and publishes, described with the contract's messages.

FastStream says which topics each app receives from and sends to (and in which consumer group); the contracts say
what travels there. FastStream's own document cannot say the latter: it gives a subscriber one message, and puts
the correlation id in a header no record carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from faststream import FastStream

from contracts import catalog, topics
from contracts.envelope import CONTENT_TYPE
from lhl import asyncapi_messages as am
from runtime.lifecycle import ServiceRuntime
from runtime.settings import RuntimeSettings

ASYNCAPI_VERSION: Final = "3.0.0"
"""3.0.0 rather than 3.1.0: more tools read it, and 3.1 adds nothing these documents use."""
LOCAL_BROKER: Final[str] = RuntimeSettings.model_fields["kafka_bootstrap_servers"].default


@dataclass(frozen=True)
class Operation:
    """One topic a service receives from or sends to."""

    action: Literal["receive", "send"]
    topic: str
    group_id: str | None = None
    handles: tuple[str, ...] | None = None
    """Event types the service acts on, when it ignores the rest of the topic; None for all."""

    @property
    def id(self) -> str:
        return f"{self.action}_{self.topic.replace('.', '_')}"


def from_app(app: FastStream) -> dict[str, Any]:
    """The document of one service's app."""
    assert app.schema is not None
    assert app.broker is not None
    generated = app.schema.to_specification().to_jsonable()
    runtime = app.context.get("runtime")
    consumes = runtime.definition.consumes if isinstance(runtime, ServiceRuntime) else {}
    groups = {
        _topic(name): getattr(subscriber, "group_id", None)
        for subscriber in app.broker.subscribers
        for name in getattr(subscriber, "topic_names", ())
    }
    operations = []
    for operation in generated["operations"].values():
        channel = generated["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        topic = _topic(channel["address"])
        handles = tuple(consumes[topic]) if topic in consumes else None
        if operation["action"] == "receive":
            operations.append(Operation("receive", topic, groups.get(topic), handles))
        else:
            operations.append(Operation("send", topic))
    return document(generated["info"], operations)


def document(info: dict[str, Any], operations: list[Operation]) -> dict[str, Any]:
    channel_topics = sorted({o.topic for o in operations}, key=topics.ALL_TOPICS.index)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for topic in channel_topics:
        on_topic = _messages_on(topic)
        messages.update(on_topic)
        channels[topic] = {
            "address": topic,
            "title": topic,
            "description": _channel_description(topic),
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in on_topic},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": am.KAFKA_BINDING_VERSION}},
        }
    built = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "development": {
                "host": LOCAL_BROKER,
                "protocol": "kafka",
                "description": "The local broker `make up` starts; the contract is the same on any other.",
            }
        },
        "channels": channels,
        "operations": {o.id: _operation(o, channels[o.topic]) for o in operations},
        "components": {
            "messages": messages,
            "schemas": am.schemas(),
            "correlationIds": am.correlation_ids(),
        },
    }
    return _without_unused_schemas(built)


def _messages_on(topic: str) -> dict[str, Any]:
    if topic == topics.DEAD_LETTER:
        return {am.DEAD_LETTER: am.dead_letter_message()}
    return {kind.name: am.event_message(kind) for kind in catalog.on_topic(topic)}


def _operation(operation: Operation, channel: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in channel["messages"] if operation.handles is None or n in operation.handles]
    built: dict[str, Any] = {
        "action": operation.action,
        "channel": {"$ref": f"#/channels/{operation.topic}"},
        "messages": [{"$ref": f"#/channels/{operation.topic}/messages/{name}"} for name in names],
    }
    if operation.action == "send":
        built["summary"] = "Published through the service's transactional outbox, at least once."
    else:
        built["summary"] = "Consumed at least once; a redelivered event has no second effect."
        if len(names) < len(channel["messages"]):
            built["description"] = "The service acts on the listed types and skips the others on the topic."
    if operation.group_id:
        group = {"type": "string", "enum": [operation.group_id]}
        built["bindings"] = {"kafka": {"groupId": group, "bindingVersion": am.KAFKA_BINDING_VERSION}}
    return built


def _channel_description(topic: str) -> str:
    derived = [k for k in catalog.on_topic(topic) if k.producer != catalog.EXTERNAL]
    return f"{topics.ROLES[topic]} Here: {am.publisher(derived[0])}." if derived else topics.ROLES[topic]


def _topic(address: str) -> str:
    """The topic an address names, without the prefix a test run may give every topic."""
    for topic in topics.ALL_TOPICS:
        if address.endswith(topic):
            return topic
    raise ValueError(f"{address} is no topic of contracts.topics")


def _without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Keep only the schemas the document refers to, so each service's document shows what concerns it."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    used: set[str] = set()
    pending = [{k: v for k, v in document.items() if k != "components"}, document["components"]["messages"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(am.SCHEMAS):
                name = ref.removeprefix(am.SCHEMAS)
                if name not in used:
                    used.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    return document
