"""A structured event is read for its signature as it travelled: each attribute as JSON has it, and the data as its
exact text, wherever JSON allows whitespace, and a malformed value is refused as unreadable."""

from __future__ import annotations

import json
import random

import pytest

from contracts.wire import Unreadable, structured_view

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/hod/saksbehandling",
    "sequence": 7,
    "flag": True,
    "data": {"meeting_id": "m-1", "items": [1, {"a": 'b "c"'}], "none": None},
    "type": "no.levehelelivet.meeting.held.v1",
}
SPACE = ["", " ", "\n", "\t", "\r\n  "]


def spaced(rng: random.Random) -> str:
    """EVENT written with random whitespace around every token of the top-level object."""

    def gap() -> str:
        return rng.choice(SPACE)

    members = [
        f"{gap()}{json.dumps(name)}{gap()}:{gap()}{json.dumps(value, indent=rng.choice([None, 1]))}{gap()}"
        for name, value in EVENT.items()
    ]
    return f"{gap()}{{{','.join(members)}}}{gap()}"


@pytest.mark.parametrize("seed", range(40))
def test_whitespace_anywhere_json_allows_it_changes_no_attribute_and_cuts_the_data_exactly(seed: int) -> None:
    text = spaced(random.Random(seed))

    view = structured_view(text.encode())

    assert dict(view.attributes) == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/hod/saksbehandling",
        "sequence": "7",
        "flag": "true",
        "type": "no.levehelelivet.meeting.held.v1",
    }
    assert view.data is not None
    assert view.data.decode() in text
    assert json.loads(view.data) == EVENT["data"]
    assert view.data.startswith(b"{")  # no whitespace around the value is part of it
    assert view.data.endswith(b"}")


def test_a_repeated_member_counts_as_its_last_as_json_loads_has_it() -> None:
    view = structured_view(b'{"id":"first","data":{"a":1},"id" : "second","data":  [2]}')
    assert view.attributes["id"] == "second"
    assert view.data == b"[2]"


@pytest.mark.parametrize(
    "text",
    [
        b'{"id":"e-1",}',
        b'{"id" "e-1"}',
        b'{"id":}',
        b'{"id":"e-1" "type":"x"}',
        b'{"id":"e-1"',
        b'{1:"e-1"}',
        b"[]",
        b"",
        b'{"id":"\xff"}',
    ],
)
def test_malformed_json_is_unreadable(text: bytes) -> None:
    with pytest.raises(Unreadable):
        structured_view(text)
