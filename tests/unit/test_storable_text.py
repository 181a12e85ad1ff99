"""Text the database would refuse (NUL, lone surrogates) is stored with U+FFFD in their place, and text it takes is
stored as it is, whichever way `storable` reaches its answer (ASCII text is only searched for the NUL)."""

from __future__ import annotations

import re

import pytest

from runtime.db import storable

REFERENCE = re.compile("[\x00\ud800-\udfff]")
"""The rule as one expression, applied to every text: what `storable` must agree with."""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no.levehelelivet.meeting.recorded.v1",
        "eyJ" + "A" * 400,
        "a\x00b",
        "\x00",
        "Kvinesdal og Sør-Varanger",
        "æøå\x00",
        "lone \ud800 high",
        "lone \udfff low",
        "\udc80\x00 both",
        "emoji 🙂 is a pair in UTF-16, not in Python",
        "\x7f\x01\t\n",
    ],
)
def test_storable_replaces_exactly_nul_and_lone_surrogates(text: str) -> None:
    assert storable(text) == REFERENCE.sub("\ufffd", text)
