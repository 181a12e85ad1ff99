"""Text nesting too deep to parse is refused before the parser recurses into it, by every reader of records that
may be hostile: the admission, the identity a dead letter is keyed by, and the audit's envelope."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.nesting import PARSE_DEPTH, nests_deeper_than
from contracts.rejections import Reason, Rejected
from runtime import identity, json_reading
from runtime.json_reading import TOO_DEEP, read_json
from runtime.records import Incoming
from services.audit import domain

DEEP = b'{"id": "deep", "source": "/x", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


class NoParsing:
    def decode(self, text: str) -> Any:
        raise AssertionError("text this deep must not reach the parser")


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_reading, "DECODER", NoParsing())
    monkeypatch.setattr(identity, "DECODER", NoParsing())
    monkeypatch.setattr(domain, "_STRICT_JSON", NoParsing())


@pytest.mark.usefixtures("no_parsing")
def test_text_nesting_past_the_parse_depth_is_refused_unparsed_by_every_reader() -> None:
    with pytest.raises(Rejected) as refused:
        read_json(DEEP)
    assert (refused.value.reason, refused.value.message) == (Reason.INVALID_DATA, TOO_DEEP)
    assert identity.identity_of(Incoming("t", 0, 7, None, DEEP)) == ("kafka:t", "0:7", None)
    assert domain.parse_json(DEEP) is None


def test_the_depth_counts_brackets_outside_strings_only() -> None:
    assert nests_deeper_than("[" * 5 + "]" * 5, 4)
    assert not nests_deeper_than("[" * 5 + "]" * 5, 5)
    assert not nests_deeper_than('["' + "[" * 10 + '"]', 3)  # inside a string
    assert not nests_deeper_than('["\\"' + "[" * 10 + '"]', 3)  # after an escaped quote, still inside
    assert not nests_deeper_than('{"a": "x' + "[" * 10, 3)  # in a string that never ends: not JSON, not nesting
    assert not nests_deeper_than("[[]]" * 100, 2)  # many brackets, side by side
    assert nests_deeper_than("[" * 10, 3)  # never closed


def test_an_event_nested_below_the_parse_depth_is_still_read_and_judged_by_the_contract_depth() -> None:
    shallow = b'{"x": ' + b"[" * 10 + b"]" * 10 + b"}"
    assert read_json(shallow) == {"x": [[[[[[[[[[]]]]]]]]]]}
    deeper = b'{"x": ' + b"[" * (PARSE_DEPTH - 10) + b"]" * (PARSE_DEPTH - 10) + b"}"
    with pytest.raises(Rejected) as refused:
        read_json(deeper)  # parsed (below PARSE_DEPTH), then refused by the contract's MAX_DEPTH
    assert refused.value.message == TOO_DEEP
