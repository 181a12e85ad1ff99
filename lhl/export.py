"""Generate the committed contract documents: a JSON Schema per event type and an AsyncAPI 3 document per service.

`python -m lhl.export` (or `make contracts`) rewrites them; it refuses to overwrite a committed schema with one
that breaks backward compatibility, since that needs a new major version of the event type instead. Only
`--accept-breaking` overrides that: for a schema that promised more than any service ever accepted, where
tightening it makes the document true rather than breaking a working publisher.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts import catalog
from contracts.compat import breaking_changes
from contracts.envelope import CloudEvent
from lhl import asyncapi, services

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "contracts" / "schemas"
ASYNCAPI_DIR = ROOT / "docs" / "asyncapi"
OPENAPI_FILE = ROOT / "docs" / "openapi" / "gateway.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every event type's data and for the envelope."""
    schemas: dict[str, dict[str, Any]] = {}
    for kind in catalog.CONTRACT_TYPES:
        # A webhook-only type has no topic: it says how it is delivered instead.
        where = {"x-delivery": "signed webhook"} if kind.topic == catalog.WEBHOOK_ONLY else {"x-topic": kind.topic}
        schemas[kind.schema_file] = {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": kind.dataschema,
            "x-event-type": kind.name,
            **where,
            "x-producer": kind.producer,
            **kind.model.model_json_schema(),
        }
    envelope = CloudEvent.model_json_schema()
    schemas["cloudevent.json"] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "urn:levehelelivet:schema:cloudevent:v1",
        **envelope,
    }
    return schemas


def asyncapi_documents() -> dict[str, dict[str, Any]]:
    """File name -> AsyncAPI document, for every service of this checkout."""
    return {f"{service}.json": asyncapi.from_app(services.create_app(service)) for service in services.available()}


def openapi_document() -> dict[str, Any]:
    """The gateway's OpenAPI document, as FastAPI generates it from the routes and models."""
    from services.gateway.app import build
    from services.gateway.settings import GatewaySettings

    return build(GatewaySettings()).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def incompatible_with_committed(schemas: dict[str, dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for name, schema in schemas.items():
        committed = SCHEMA_DIR / name
        if committed.exists():
            old = json.loads(committed.read_text(encoding="utf-8"))
            problems.extend(f"{name}: {p}" for p in breaking_changes(old, schema))
    return problems


def main(argv: list[str] | None = None) -> int:
    accept = "--accept-breaking" in (sys.argv[1:] if argv is None else argv)
    schemas = event_schemas()
    problems = incompatible_with_committed(schemas)
    if problems and accept:
        print("overwriting committed schemas with breaking changes (--accept-breaking):")
        print("\n".join(f"  {p}" for p in problems))
    elif problems:
        print("refusing to overwrite committed schemas with breaking changes (add a new major version):")
        print("\n".join(f"  {p}" for p in problems))
        return 1
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    ASYNCAPI_DIR.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        (SCHEMA_DIR / name).write_text(render(schema), encoding="utf-8")
    for name, document in asyncapi_documents().items():
        (ASYNCAPI_DIR / name).write_text(render(document), encoding="utf-8")
    OPENAPI_FILE.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI_FILE.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {len(schemas)} schemas to {SCHEMA_DIR}, AsyncAPI documents to {ASYNCAPI_DIR}, {OPENAPI_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
