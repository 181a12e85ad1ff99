"""The runtime accepts exactly what a JSON Schema validator accepts, for every committed schema.

Hypothesis generates documents from each committed schema (`tests.support.schema_documents`) and mutates them: a
field's value replaced by any JSON value, a field removed, a field added. Each document is judged twice: by the
runtime's admission (jsonschema-rs on the committed schema, then the typed models) and by an independent
implementation, Python's `jsonschema` with format checking. The two verdicts must agree.

The reference follows ECMA-262, as JSON Schema specifies, where Python's `re` does not: `$` there matches only at
the end of the text (Python's also matches before a final newline).

Examples per schema: LHL_FUZZ_EXAMPLES (default 25; set e.g. 500 for a longer run).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import catalog, validation
from contracts.envelope import CloudEvent
from contracts.rejections import Rejected
from runtime.admission import parse_event
from tests.support.schema_documents import documents

EXAMPLES = int(os.environ.get("LHL_FUZZ_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize="LHL_FUZZ_EXAMPLES" not in os.environ,  # the same cases in every CI run; random on demand
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if isinstance(instance, str) and not re.search(re.sub(r"(?<!\\)\$", r"\\Z", pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Reference = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
)


def reference_accepts(schema: dict[str, Any], instance: Any) -> bool:
    validator = Reference(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return bool(validator.is_valid(instance))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A valid document, then (mostly) one change at a random place in it."""
    document = draw(documents(schema))
    if draw(st.integers(0, 4)) == 0:
        return document
    objects = _objects(document)
    if not objects:
        return draw(json_values)
    target = draw(st.sampled_from(objects))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "add" or not target:
        target[draw(st.text(max_size=12))] = draw(json_values)
    elif action == "remove":
        del target[draw(st.sampled_from(sorted(target)))]
    else:
        target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return document


def _objects(document: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def runtime_accepts_data(kind: catalog.EventType, data: Any) -> bool:
    envelope = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/test",
        "type": kind.name,
        "time": "2022-03-01T10:00:00+01:00",
        "dataschema": kind.dataschema,
        "correlationid": "c-1",
        "partitionkey": "leve-hele-livet-2019-2023/national",
        "data": data,
    }
    try:
        parse_event(json.dumps(envelope).encode(), {kind.name: kind})
    except Rejected:
        return False
    return True


def runtime_accepts_envelope(raw: Any) -> bool:
    if not isinstance(raw, dict) or validation.envelope_problems(raw):
        return False
    CloudEvent.model_validate(raw)  # must not fail on what the schema passed
    return True


@pytest.mark.parametrize("kind", catalog.CONTRACT_TYPES, ids=lambda k: k.name)
def test_the_runtime_accepts_exactly_what_the_committed_data_schema_accepts(kind: catalog.EventType) -> None:
    schema = validation.schema(kind.schema_file)

    verdicts: set[bool] = set()

    @SETTINGS
    @given(mutated(schema))
    def agree(data: Any) -> None:
        verdict = reference_accepts(schema, data)
        verdicts.add(verdict)
        assert runtime_accepts_data(kind, data) == verdict, json.dumps(data)[:2000]

    agree()
    assert verdicts == {True, False}, "the generated cases must include documents both accepted and refused"


def test_the_runtime_accepts_exactly_what_the_committed_envelope_schema_accepts() -> None:
    schema = validation.schema(validation.ENVELOPE_SCHEMA_FILE)

    verdicts: set[bool] = set()

    @SETTINGS
    @given(mutated(schema))
    def agree(raw: Any) -> None:
        verdict = reference_accepts(schema, raw)
        verdicts.add(verdict)
        assert runtime_accepts_envelope(raw) == verdict, json.dumps(raw)[:2000]

    agree()
    assert verdicts == {True, False}, "the generated cases must include documents both accepted and refused"
