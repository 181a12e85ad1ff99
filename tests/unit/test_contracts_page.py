"""The contracts reference page: up to date, complete, self-contained, and its examples valid against the contracts."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from contracts import catalog, reference, topics
from contracts.events import meetings as mt
from contracts.rejections import DESCRIPTIONS
from lhl import contracts_page, services
from lhl.contract_examples import EXAMPLE_EVENTS, envelope, missing_examples
from lhl.contract_fields import field_rows
from lhl.contract_sections import CONSUMERS, DEAD_LETTER_HEADERS, DEAD_LETTER_PUBLISHERS, SERVICES
from runtime.admission import parse_event

COMMITTED = contracts_page.DEFAULT_OUT_DIR / contracts_page.PAGE_NAME
TYPE_NAMES = [kind.name for kind in catalog.CONTRACT_TYPES]


@pytest.fixture(scope="module")
def page() -> str:
    return contracts_page.render_page()


class _Attributes(HTMLParser):
    """Every start tag's name and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.tags


def test_committed_page_is_up_to_date(page: str) -> None:
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == page, (
        f"{COMMITTED} is out of date with the contracts: run `python -m lhl.contracts_page` and commit the result"
    )


def test_every_event_type_has_an_example() -> None:
    assert missing_examples() == [], "add an example for each new event type in lhl/contract_examples/"


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_example_data_validates_against_the_json_schema_of_its_model(type_name: str) -> None:
    kind = catalog.BY_NAME[type_name]
    schema = kind.model.model_json_schema()
    instance = EXAMPLE_EVENTS[type_name].data.model_dump(mode="json")

    errors = sorted(
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(instance),
        key=str,
    )

    assert errors == [], [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_the_schema_check_catches_an_example_missing_a_required_field() -> None:
    schema = mt.ContactMeetingHeld.model_json_schema()
    instance = copy.deepcopy(EXAMPLE_EVENTS[catalog.of(mt.ContactMeetingHeld).name].data.model_dump(mode="json"))
    del instance["action_items"][0]["owner"]

    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))

    assert [list(e.absolute_path) for e in errors] == [["action_items", 0]]
    assert "'owner' is a required property" in errors[0].message


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_example_record_value_is_accepted_by_the_pipeline_on_its_topic(type_name: str) -> None:
    kind = catalog.BY_NAME[type_name]
    event = envelope(type_name)

    # A webhook-only type is checked against itself: it is never on a topic.
    accepted = {k.name: k for k in catalog.BY_NAME.values() if k.topic == kind.topic}
    parsed, data = parse_event(event.to_bytes(), accepted)

    assert parsed.type == type_name
    assert data == EXAMPLE_EVENTS[type_name].data


@pytest.mark.parametrize("kind", [k for k in catalog.EVENT_TYPES if k.producer == catalog.EXTERNAL], ids=str)
def test_external_example_comes_from_a_registered_source(kind: catalog.EventType) -> None:
    source = EXAMPLE_EVENTS[kind.name].source

    assert reference.organisations().owner_of_source(source) is not None, f"{source} is not registered"


def test_every_event_type_has_an_element_with_its_name_as_id_and_data_attribute(page: str) -> None:
    tagged = {attrs.get("data-event-type"): attrs.get("id") for _, attrs in _tags(page) if "data-event-type" in attrs}

    assert tagged == {name: name for name in TYPE_NAMES}


def test_every_topic_has_a_row_with_its_publishers_and_consumers(page: str) -> None:
    rows = {attrs.get("data-topic") for tag, attrs in _tags(page) if tag == "tr" and "data-topic" in attrs}

    assert rows == set(topics.ALL_TOPICS)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_field_of_the_event_type_is_documented(page: str, type_name: str) -> None:
    start = page.index(f'<article id="{type_name}"')
    article = page[start : page.index("</article>", start)]

    missing = [
        row.path
        for row in field_rows(catalog.BY_NAME[type_name].model.model_json_schema())
        if f"<code>{row.path}</code>" not in article
    ]

    assert missing == []


def test_nested_fields_are_listed_with_their_path_and_presence() -> None:
    rows = {row.path: row for row in field_rows(mt.ContactMeetingHeld.model_json_schema())}

    assert rows["action_items[].owner"].required
    assert rows["action_items[].owner"].depth == 1
    assert rows["region"].nullable
    assert not rows["region"].required
    assert rows["kind"].constraints == ("one of: national, regional, learning_network",)


def test_every_rejection_reason_and_dead_letter_header_is_on_the_page(page: str) -> None:
    missing = [f"<code>{code}</code>" for code in [*DESCRIPTIONS, *(h for h, _ in DEAD_LETTER_HEADERS)]]

    assert [code for code in missing if code not in page] == []


def test_page_loads_nothing_from_outside(page: str) -> None:
    tags = _tags(page)
    loaded = [attrs for tag, attrs in tags if "src" in attrs or tag == "link"]
    links = [str(attrs["href"]) for tag, attrs in tags if tag == "a" and attrs.get("href")]

    assert loaded == []
    assert "@import" not in page
    assert "url(" not in page
    assert [href for href in links if not (href.startswith("#") or href.startswith("../"))] == []


def test_page_links_the_asyncapi_document_of_each_service_beside_it(page: str) -> None:
    for service in ("meetings", "evaluations", "notifications", "audit"):
        assert f'href="../asyncapi/{service}.json"' in page


def test_page_links_the_gateways_committed_openapi_document(page: str) -> None:
    assert 'href="../openapi/gateway.json"' in page
    assert (Path(contracts_page.__file__).parent.parent / "docs" / "openapi" / "gateway.json").is_file()


def test_command_writes_the_page_to_the_given_folder(tmp_path: Path, page: str) -> None:
    assert contracts_page.main([str(tmp_path / "out")]) == 0

    assert (tmp_path / "out" / "index.html").read_text(encoding="utf-8") == page


def _service_operations() -> dict[str, dict[str, set[str]]]:
    """Per service in this checkout: the topics it receives from and sends to, from its own AsyncAPI document."""
    found: dict[str, dict[str, set[str]]] = {}
    for service in services.available():
        spec = services.create_app(service).schema
        assert spec is not None
        document = spec.to_specification().to_jsonable()
        operations: dict[str, set[str]] = {"receive": set(), "send": set()}
        for operation in document["operations"].values():
            channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
            operations[operation["action"]].add(channel["address"])
        found[service] = operations
    return found


def test_consumers_and_dead_letter_publishers_on_the_page_are_what_the_services_subscribe_and_send() -> None:
    operations = _service_operations()

    for service, ops in operations.items():
        listed = {topic for topic, readers in CONSUMERS.items() if service in readers}
        assert listed == ops["receive"], f"the page's CONSUMERS disagree with what {service} subscribes to"
    senders = {service for service, ops in operations.items() if topics.DEAD_LETTER in ops["send"]}
    assert senders == set(DEAD_LETTER_PUBLISHERS) & set(operations)
    assert set(SERVICES) == set(services.SERVICES)


def test_every_relative_link_to_a_json_schema_points_at_a_committed_schema(page: str) -> None:
    schema_links = [
        str(attrs["href"])
        for tag, attrs in _tags(page)
        if tag == "a" and str(attrs.get("href", "")).startswith("../../contracts/schemas/")
    ]

    assert len(schema_links) == len(TYPE_NAMES) + 1
    assert [href for href in schema_links if not (contracts_page.DEFAULT_OUT_DIR / href).resolve().is_file()] == []
