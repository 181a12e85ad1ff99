"""The sections of the contracts page, each rendered as HTML from the contract code itself."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Final

from contracts import catalog, topics
from contracts.envelope import CONTENT_TYPE, CloudEvent
from contracts.rejections import DESCRIPTIONS
from lhl.contract_examples import AGREEMENT, envelope
from lhl.contract_fields import FieldRow, field_rows
from runtime import deadletter

# Who reads each topic is decided by the services, not by the contracts; kept here until contracts say it.
CONSUMERS: Final[Mapping[str, tuple[str, ...]]] = {
    topics.MEETINGS_INGRESS: ("meetings", "audit"),
    topics.REPORTS_INGRESS: ("evaluations", "audit"),
    topics.AGREEMENT_INGRESS: ("evaluations", "notifications", "audit"),
    topics.MEETINGS_EVENTS: ("evaluations", "notifications", "audit"),
    topics.EVALUATIONS_EVENTS: ("meetings", "notifications", "audit"),
    topics.NOTIFICATIONS_EVENTS: ("audit",),
    topics.DEAD_LETTER: ("notifications", "audit"),
}
SERVICES: Final = tuple(sorted({s for readers in CONSUMERS.values() for s in readers}))
# The audit service records rejected records instead of dead-lettering them; every other consumer dead-letters.
DEAD_LETTER_PUBLISHERS: Final = tuple(s for s in SERVICES if s != "audit")

DEAD_LETTER_HEADERS: Final = tuple((name, doc.description) for name, doc in deadletter.HEADERS.items())


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _table(head: Iterable[str], rows: Iterable[str], css: str = "") -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _type_link(name: str) -> str:
    return f'<a href="#{escape(name)}">{_code(name)}</a>'


def _publishers(topic: str) -> list[str]:
    if topic == topics.DEAD_LETTER:
        return list(DEAD_LETTER_PUBLISHERS)
    producers = {k.producer for k in catalog.on_topic(topic)}
    return sorted("external publishing systems" if p == catalog.EXTERNAL else p for p in producers)


def topics_section() -> str:
    rows = []
    for topic in topics.ALL_TOPICS:
        kinds = catalog.on_topic(topic)
        carried = "<br>".join(_type_link(k.name) for k in kinds) or "Any record another service rejected."
        rows.append(
            f'<tr id="topic-{escape(topic)}" data-topic="{escape(topic)}" data-filter>'
            f"<td>{_code(topic)}</td><td>{escape(topics.ROLES[topic])}</td>"
            f"<td>{escape(', '.join(_publishers(topic)))}</td>"
            f"<td>{escape(', '.join(CONSUMERS.get(topic, ())))}</td><td>{carried}</td></tr>"
        )
    return (
        '<section id="topics"><h2>Topics</h2>'
        + _table(("Topic", "What flows on it", "Published by", "Consumed by", "Event types"), rows)
        + "</section>"
    )


def fields_table(rows: list[FieldRow]) -> str:
    body = []
    for row in rows:
        need = "required" if row.required else "optional"
        if row.nullable:
            need += ", may be null"
        if row.default is not None:
            need += f", default {row.default}"
        rules = "<br>".join(_code(c) if c.startswith("matches ") else escape(c) for c in row.constraints)
        body.append(
            f'<tr class="depth-{row.depth}"><td>{_code(row.path)}</td><td>{escape(row.type)}</td>'
            f"<td>{escape(need)}</td><td>{rules}</td><td>{escape(row.description)}</td></tr>"
        )
    return _table(("Field", "Type", "Presence", "Rules", "Description"), body, css="fields")


def envelope_section() -> str:
    sample = envelope(catalog.EVENT_TYPES[0].name)
    headers = "".join(f"<tr><td>{_code(k)}</td><td>{_code(v)}</td></tr>" for k, v in sample.kafka_headers().items())
    national, regional = topics.partition_key(AGREEMENT, None), topics.partition_key(AGREEMENT, "vestland")
    return f"""<section id="envelope"><h2>The CloudEvents envelope and Kafka conventions</h2>
<ul>
<li><strong>Structured mode.</strong> The record value is the whole CloudEvent as one UTF-8 JSON object
({_code("specversion")} {_code(sample.specversion)}): attributes, this system's extensions and {_code("data")}.</li>
<li><strong>Header.</strong> Set the record header {_code("content-type")} to {_code(CONTENT_TYPE)}. The other
headers below repeat attributes for routers and operators; the body is what counts.</li>
<li><strong>Key.</strong> The record key is the {_code("partitionkey")} attribute:
{escape(topics.partition_key.__doc__ or "")} Rule: {_code("<agreement id>/<region or national>")}, e.g.
{_code(regional)} or {_code(national)}.</li>
<li><strong>Identity.</strong> {_code("source")} + {_code("id")} identify an event; a redelivery keeps both and
has no second effect. The {_code("source")} must be registered for the organisation the event speaks for.</li>
<li><strong>Type and schema.</strong> {_code("dataschema")} must name the schema of {_code("type")}: both are
listed with each event type below.</li>
</ul>
<h3>Envelope attributes</h3>
<p>JSON Schema: <a href="../../contracts/schemas/cloudevent.json">cloudevent.json</a></p>
{fields_table(field_rows(CloudEvent.model_json_schema()))}
<h3>Kafka record headers</h3>
<p>A publisher must set {_code("content-type")}; the services set all of these on what they publish.
Values from the first example:</p>
{_table(("Header", "Example"), [headers])}
</section>"""


def _where(kind: catalog.EventType) -> str:
    if kind.topic == catalog.WEBHOOK_ONLY:
        return "<dt>Delivered</dt><dd>as the body of a signed webhook, to the contact of the publishing system</dd>"
    return f'<dt>Topic</dt><dd><a href="#topic-{escape(kind.topic)}">{_code(kind.topic)}</a></dd>'


def event_type_article(kind: catalog.EventType) -> str:
    example = json.dumps(envelope(kind.name).model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False)
    producer = "external publishing systems" if kind.producer == catalog.EXTERNAL else f"the {kind.producer} service"
    name = escape(kind.name)
    return f"""<article id="{name}" data-event-type="{name}" data-topic="{escape(kind.topic)}" data-filter>
<h3>{_code(kind.name)}</h3>
<p>{escape(kind.description)}</p>
<dl>
{_where(kind)}
<dt>Published by</dt><dd>{escape(producer)}</dd>
<dt>dataschema</dt><dd>{_code(kind.dataschema)}</dd>
<dt>JSON Schema</dt><dd><a href="../../contracts/schemas/{escape(kind.schema_file)}">{escape(kind.schema_file)}</a></dd>
</dl>
<h4>Data fields</h4>
{fields_table(field_rows(kind.model.model_json_schema()))}
<details><summary>Example record value</summary><pre><code>{escape(example)}</code></pre></details>
</article>"""


def webhook_bodies_section() -> str:
    articles = "\n".join(event_type_article(k) for k in catalog.WEBHOOK_TYPES)
    return f"""<section id="webhook-bodies"><h2>Webhook bodies</h2>
<p>A recipient with a webhook contact point gets each notification as an HTTP POST of a CloudEvent, signed with
{_code("X-LHL-Signature")} (see the notifications service's README). The body is the event notified about,
unchanged, except for these types, which are never on a topic.</p>
{articles}
</section>"""


def event_types_section() -> str:
    index = [
        f"<tr><td>{_type_link(k.name)}</td><td>{_code(k.topic)}</td><td>{escape(k.producer)}</td></tr>"
        for k in catalog.EVENT_TYPES
    ]
    articles = "\n".join(event_type_article(k) for k in catalog.EVENT_TYPES)
    return (
        '<section id="event-types"><h2>Event types</h2>'
        + _table(("Event type", "Topic", "Producer"), index)
        + f"\n{articles}</section>"
    )


def rejections_section() -> str:
    reasons = [
        f'<tr id="reason-{escape(r.value)}" data-filter><td>{_code(r.value)}</td><td>{escape(text)}</td></tr>'
        for r, text in DESCRIPTIONS.items()
    ]
    headers = [f"<tr><td>{_code(h)}</td><td>{escape(text)}</td></tr>" for h, text in DEAD_LETTER_HEADERS]
    return f"""<section id="rejections"><h2>Rejections and the dead-letter topic</h2>
<p>An event that cannot be accepted is published unchanged to {_code(topics.DEAD_LETTER)} with the reason in
headers, and the contact registered for its {_code("source")} is told why. Fix it and publish it again with a
new {_code("id")}, or ask an operator to replay the dead letter after a fix on our side.</p>
<h3>Reasons</h3>
{_table(("Reason", "Meaning"), reasons)}
<h3>Dead-letter headers</h3>
{_table(("Header", "Meaning"), headers)}
</section>"""
