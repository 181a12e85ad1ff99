"""The keys that start with a prefix are exactly the range from the prefix up to its successor, in code point order
(the order of PostgreSQL's "C" collation over UTF-8), so an index can find the timers a prefix cancels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runtime.timer_keys import prefix_successor

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
"""Any text PostgreSQL can hold: UTF-8, so no surrogates."""


@given(prefix=TEXT, key=TEXT)
def test_a_key_starts_with_the_prefix_exactly_when_it_is_in_the_prefix_range(prefix: str, key: str) -> None:
    after = prefix_successor(prefix)
    in_range = prefix <= key and (after is None or key < after)
    assert in_range == key.startswith(prefix)


@given(prefix=TEXT, rest=TEXT)
def test_a_key_made_of_the_prefix_and_anything_is_in_the_range(prefix: str, rest: str) -> None:
    after = prefix_successor(prefix)
    assert prefix <= prefix + rest
    assert after is None or prefix + rest < after


def test_the_successor_of_the_keys_in_use() -> None:
    assert prefix_successor("action-item/lhl-2019/a-1/") == "action-item/lhl-2019/a-10"
    assert prefix_successor("contact-meetings/lhl-2019/trøndelag/") == "contact-meetings/lhl-2019/trøndelag0"


def test_the_successor_skips_what_is_not_text_and_carries_past_the_last_code_point() -> None:
    assert prefix_successor("a\ud7ff") == "a\ue000"
    assert prefix_successor("ab\U0010ffff") == "ac"
    assert prefix_successor("\U0010ffff\U0010ffff") is None
    assert prefix_successor("") is None
