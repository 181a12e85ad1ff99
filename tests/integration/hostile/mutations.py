"""Hypothesis strategies for hostile records: valid events mutated, and raw bytes, keys, headers, sizes, encodings,
numbers, nesting and times that no publisher should send."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from contracts.envelope import CONTENT_TYPE
from contracts.wire import structured_view
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.kafka import cloud_event
from tests.support.raw_records import RawName
from tests.support.signing import keys_for_tests

PARTITIONS = 3
EXAMPLES = int(os.environ.get("LHL_FUZZ_EXAMPLES", "30"))
"""Examples of the hostile tests (bursts, batches); `LHL_FUZZ_EXAMPLES=500` for a long run."""
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
"""How the hostile tests run their examples: `EXAMPLES` of them, freshly generated, none remembered or replayed."""


@dataclass(frozen=True)
class Case:
    """One record to send, and what was done to it (for the failure message)."""

    mutation: str
    value: bytes | None
    key: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    partition: int


def fresh_event() -> dict[str, Any]:
    event = cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=NATIONAL_SECRETARIAT)
    parsed: dict[str, Any] = json.loads(event.to_bytes())
    return parsed


def small_bytes(max_size: int) -> st.SearchStrategy[bytes]:
    """Bytes built from drawn integers: hypothesis's own byte strategy became slow once long values had been seen."""
    return st.lists(st.integers(0, 255), max_size=max_size).map(bytes)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ENVELOPE = ["specversion", "id", "source", "type", "time", "dataschema", "correlationid", "partitionkey", "data"]
DATA = ["meeting_id", "agreement_id", "kind", "held_on", "organiser", "participants", "action_items", "region"]

times = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:59:59-14:00",
            "2021-02-29T00:00:00Z",
            "2021-09-02T25:00:00Z",
            "2021-09-02",
            "",
            "2021-09-02T10:00:00+99:00",
        ]
    ),
    st.text(max_size=30),
)


def _number_literal(digits: int, kind: str) -> bytes:
    body = b"9" * digits
    return {"int": body, "neg": b"-" + body, "float": b"1." + body, "exp": b"1e" + body[:6]}[kind]


@st.composite
def values(draw: st.DrawFn) -> tuple[str, bytes | None]:
    """A record value: a valid event, one mutated in one place, or bytes that are not an event at all."""
    event = fresh_event()
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "envelope",
                "missing",
                "data",
                "time",
                "number",
                "nesting",
                "encoding",
                "raw",
                "tombstone",
                "size",
                "nul",
            ]
        )
    )
    if kind == "valid":
        return kind, json.dumps(event).encode()
    if kind == "envelope":
        event[draw(st.sampled_from(ENVELOPE))] = draw(json_values)
    elif kind == "missing":
        del event[draw(st.sampled_from(ENVELOPE))]
    elif kind == "data":
        event["data"][draw(st.sampled_from(DATA))] = draw(json_values)
    elif kind == "time":
        event["time"] = draw(times)
    elif kind == "number":
        literal = _number_literal(draw(st.integers(1, 6000)), draw(st.sampled_from(["int", "neg", "float", "exp"])))
        where = draw(st.sampled_from([b'"data": {', b'"specversion": "1.0", ']))
        return kind, json.dumps(event).encode().replace(where, where + b'"n": ' + literal + b", ", 1)
    elif kind == "nesting":
        depth = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a": ', b"}")]))
        nested = opener * depth + b"1" + closer * depth
        return kind, json.dumps(event).encode().replace(b'"data": {', b'"data": {"deep": ' + nested + b", ", 1)
    elif kind == "encoding":
        text = json.dumps(event, ensure_ascii=False).replace("Invitere", "Invitére ✓")
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "utf-8-sig", "cp1252"]))
        return kind, text.encode(codec, "replace")
    elif kind == "raw":
        return kind, draw(small_bytes(max_size=100))
    elif kind == "tombstone":
        return kind, None
    elif kind == "size":
        event["data"]["padding"] = "x" * draw(st.sampled_from([10, 70_000, 999_000, 1_040_000]))
    elif kind == "nul":
        event[draw(st.sampled_from(["id", "source", "subject"]))] = draw(st.text(max_size=5)) + "\x00"
    return kind, json.dumps(event, ensure_ascii=draw(st.booleans())).encode()


# Long things are built from a drawn length rather than drawn byte by byte, so that a burst generates quickly.
keys = st.one_of(
    st.just(b"leve-hele-livet-2019-2023/national"),
    st.none(),
    small_bytes(max_size=40),
    st.integers(1020, 1030).map(lambda n: (b"\xff\x00k" * n)[:n]),
)
header_names = st.one_of(
    st.sampled_from(["content-type", "traceparent", "ce_id", "x-sender"]),
    st.text(max_size=12),
    small_bytes(max_size=12).map(RawName),
    st.integers(250, 260).map(lambda n: "h" * n),
)
header_values = st.one_of(
    st.none(),
    st.just(CONTENT_TYPE.encode()),
    small_bytes(max_size=20),
    st.integers(8190, 8195).map(lambda n: b"v" * n),
)
headers = st.one_of(
    st.just((("content-type", CONTENT_TYPE.encode()),)),
    st.lists(st.tuples(header_names, header_values), max_size=4).map(tuple),
    st.integers(62, 66).map(lambda n: tuple((f"x-{i}", b"") for i in range(n))),
)


@st.composite
def binary_mode(draw: st.DrawFn) -> tuple[bytes | None, tuple[tuple[str, bytes | None], ...]]:
    """A valid event in CloudEvents binary mode (attributes in ce_ headers, the data as the value), then one header
    dropped, doubled, nulled or given other bytes, or the value replaced."""
    event = fresh_event()
    data: bytes | None = json.dumps(event.pop("data")).encode()
    event.pop("datacontenttype", None)
    attributes: list[tuple[str, bytes | None]] = [(f"ce_{name}", str(v).encode()) for name, v in event.items()]
    attributes.append(("content-type", b"application/json"))
    index = draw(st.integers(0, len(attributes) - 1))
    name, _ = attributes[index]
    change = draw(st.sampled_from(["none", "drop", "double", "null", "bytes", "value"]))
    if change == "drop":
        del attributes[index]
    elif change == "double":
        attributes.append(attributes[index])
    elif change == "null":
        attributes[index] = (name, None)
    elif change == "bytes":
        attributes[index] = (name, draw(small_bytes(max_size=20)))
    elif change == "value":
        data = draw(st.one_of(st.none(), small_bytes(max_size=40)))
    return data, tuple(attributes)


def _signed(value: bytes) -> bytes | None:
    """The value signed by the key of the fresh event's source, when it is still readable as an event from it."""
    try:
        if structured_view(value).attributes.get("source") != NATIONAL_SECRETARIAT:
            return None
        return keys_for_tests().sign_bytes(value)
    except Exception:  # not readable as a structured event: it is sent as it is
        return None


@st.composite
def cases(draw: st.DrawFn) -> Case:
    if draw(st.integers(0, 9)) == 0:
        value, chosen = draw(binary_mode())
        mutation = "binary"
    else:
        (mutation, value), chosen = draw(values()), draw(headers)
    if value is not None and draw(st.booleans()):
        # Signed as its publisher would sign it, so that the mutation reaches the checks behind the signature.
        signed = _signed(value)
        if signed is not None:
            value, mutation = signed, f"{mutation}, signed"
    key = draw(keys)
    if value is None and key is None:
        key = b"tombstone"  # Kafka takes no record without both
    return Case(mutation, value, key, chosen, draw(st.integers(0, PARTITIONS - 1)))
