"""The committed JSON Schemas and AsyncAPI documents are the published contract: they must match the code."""

from __future__ import annotations

import json

import pytest

from contracts import catalog
from contracts.compat import breaking_changes
from lhl import export

SCHEMAS = export.event_schemas()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_not_broken_by_the_code(name: str) -> None:
    committed = export.SCHEMA_DIR / name
    assert committed.exists(), f"{name} is not committed: run `make contracts`"
    problems = breaking_changes(json.loads(committed.read_text(encoding="utf-8")), SCHEMAS[name])
    assert problems == [], f"breaking change to a published schema (publish a new major version instead): {problems}"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_up_to_date(name: str) -> None:
    committed = (export.SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == export.render(SCHEMAS[name]), f"{name} is stale: run `make contracts`"


def test_every_event_type_has_a_committed_schema_and_nothing_else_is_there() -> None:
    expected = {k.schema_file for k in catalog.CONTRACT_TYPES} | {"cloudevent.json"}
    assert {p.name for p in export.SCHEMA_DIR.glob("*.json")} == expected


def test_committed_asyncapi_documents_match_the_services() -> None:
    documents = export.asyncapi_documents()
    assert documents, "no service produced an AsyncAPI document"
    for name, document in documents.items():
        committed = export.ASYNCAPI_DIR / name
        assert committed.exists(), f"docs/asyncapi/{name} is missing: run `make contracts`"
        assert committed.read_text(encoding="utf-8") == export.render(document), (
            f"docs/asyncapi/{name} drifted from the code: run `make contracts`"
        )


def test_asyncapi_documents_describe_every_ingress_event_type() -> None:
    text = "".join(export.render(d) for d in export.asyncapi_documents().values())
    for kind in catalog.EVENT_TYPES:
        if kind.producer == catalog.EXTERNAL:
            assert f'"#/components/schemas/{kind.name}"' in text, kind.name


def test_committed_openapi_document_matches_the_gateway() -> None:
    # `make contracts` (python -m lhl.export) rewrites it from the gateway's routes and models.
    committed = export.OPENAPI_FILE.read_text(encoding="utf-8")
    assert committed == export.render(export.openapi_document()), "run `make contracts` and commit the result"


def test_the_openapi_document_describes_publishing_receipts_and_the_feed_with_problem_documents() -> None:
    document = export.openapi_document()
    assert {"/events", "/events/{source}/{event_id}", "/feed", "/health/ready", "/metrics"} <= set(document["paths"])
    post = document["paths"]["/events"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/cloudevents+json", "application/cloudevents-batch+json"}
    assert {"400", "403", "409", "413", "415"} <= set(post["responses"])
    assert "application/problem+json" in post["responses"]["400"]["content"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
