"""A derived event is written as bytes without building its model (`contracts.envelope.unsigned_value`): the bytes
are exactly what the model would write, for every event type and any attribute the model accepts, and what the
model refuses is refused too."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import catalog, limits, validation
from contracts.envelope import CloudEvent, unsigned_value
from tests.support.schema_documents import documents

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40)
"""Any text the model takes (no NUL, no lone surrogate): quotes, backslashes, control characters, U+2028, letters of
other scripts."""
ATTRIBUTES = st.fixed_dictionaries(
    {
        "id": texts,
        "source": texts,
        "time": st.datetimes(
            datetime(1990, 1, 1),  # noqa: DTZ001 - naive bounds, the zone is drawn
            datetime(2990, 1, 1),  # noqa: DTZ001
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]),
        ),
        "subject": st.none() | texts,
        "correlationid": texts,
        "causationid": st.none() | texts,
        "traceparent": st.sampled_from([None, TRACEPARENT]),
        "partitionkey": texts,
    }
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def by_model(kind: catalog.EventType, data: Any, attributes: dict[str, Any]) -> bytes:
    event = CloudEvent(
        specversion="1.0",
        type=kind.name,
        dataschema=kind.dataschema,
        data=data.model_dump(mode="json"),
        **attributes,
    )
    return event.to_bytes()


def by_bytes(kind: catalog.EventType, data: Any, attributes: dict[str, Any]) -> bytes:
    data_bytes = data.model_dump_json().encode()
    return unsigned_value(type=kind.name, dataschema=kind.dataschema, data=data_bytes, **attributes)


@pytest.mark.parametrize("kind", catalog.EVENT_TYPES, ids=lambda k: k.name)
def test_an_events_bytes_are_what_its_model_writes(kind: catalog.EventType) -> None:
    schema = validation.schema(kind.schema_file)

    @SETTINGS
    @given(documents(schema), ATTRIBUTES)
    def same(document: Any, attributes: dict[str, Any]) -> None:
        try:
            data = kind.model.model_validate(document)
        except ValidationError:
            return  # the schema allows what a model's own checks refuse (dates in order, ...); not this test's case
        written = by_bytes(kind, data, attributes)
        assert written == by_model(kind, data, attributes)
        assert CloudEvent.model_validate_json(written).data == json.loads(data.model_dump_json())

    same()


def test_the_same_instant_in_another_zone_is_written_in_that_zone() -> None:
    kind = catalog.EVENT_TYPES[0]
    data = kind.model.model_validate(_example(kind))
    utc = datetime(2022, 3, 10, 16, tzinfo=UTC)
    for moment in (utc, utc.astimezone(timezone(timedelta(hours=1))), utc):
        attributes = {**valid(), "time": moment}
        assert by_bytes(kind, data, attributes) == by_model(kind, data, attributes)


def valid() -> dict[str, Any]:
    return {
        "id": "e-1",
        "source": "/lhl/meetings",
        "time": datetime(2022, 3, 10, 16, tzinfo=UTC),
        "subject": "meeting/m-1",
        "correlationid": "c-1",
        "causationid": "e-0",
        "traceparent": TRACEPARENT,
        "partitionkey": "leve-hele-livet-2019-2023/vestland",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"id": ""},
        {"id": "x" * (limits.MAX_ID_CHARS + 1)},
        {"source": "/lhl/\x00"},
        {"subject": "s" * (limits.MAX_SUBJECT_CHARS + 1)},
        {"subject": "meeting/\x00"},
        {"correlationid": ""},
        {"causationid": "c\x00"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n"},
        {"traceparent": "not trace context"},
        {"partitionkey": ""},
        {"partitionkey": "k" * (limits.MAX_PARTITION_KEY_CHARS + 1)},
        {"time": datetime(2022, 3, 10, 16)},  # noqa: DTZ001 - no offset, which the model refuses
    ],
    ids=lambda change: f"{next(iter(change))}={next(iter(change.values()))!r}"[:60],
)
def test_what_the_model_refuses_is_refused(change: dict[str, Any]) -> None:
    kind = catalog.EVENT_TYPES[0]
    data = kind.model.model_validate(_example(kind))
    attributes = {**valid(), **change}
    with pytest.raises(ValidationError):
        by_model(kind, data, attributes)
    with pytest.raises(ValueError, match=next(iter(change)) if next(iter(change)) != "time" else "timezone"):
        by_bytes(kind, data, attributes)


@pytest.mark.parametrize("name", ["no.levehelelivet.meeting.held", "no.levehelelivet.meeting.held.v1\n", "x"])
def test_a_type_that_is_not_one_of_this_systems_is_refused(name: str) -> None:
    kind = catalog.EVENT_TYPES[0]
    data = kind.model.model_validate(_example(kind))
    with pytest.raises(ValueError, match="type"):
        unsigned_value(type=name, dataschema=kind.dataschema, data=data.model_dump_json().encode(), **valid())


@functools.cache
def _example(kind: catalog.EventType) -> Any:
    found: list[Any] = []

    @settings(max_examples=20, deadline=None, database=None)
    @given(documents(validation.schema(kind.schema_file)))
    def collect(document: Any) -> None:
        try:
            kind.model.model_validate(document)
        except ValidationError:
            return
        found.append(document)

    collect()
    assert found, f"no valid {kind.name} generated"
    return found[0]
