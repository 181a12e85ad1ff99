"""The CLI's small promises: `--version`, and long table text shortened between words with "…"."""

from __future__ import annotations

from importlib import metadata

from typer.testing import CliRunner

from lhl.cli import app
from lhl.text import shorten


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.output == f"lhl {metadata.version('leve-hele-livet-events')}\n"


def test_a_short_text_is_left_as_it_is() -> None:
    assert shorten("the key names another region", 40) == "the key names another region"


def test_a_long_text_is_cut_between_words_and_marked() -> None:
    text = "data.held_on: expected a date written YYYY-MM-DD from 1900 to 2999, got the number 1646092800"

    shortened = shorten(text, 50)

    assert shortened == "data.held_on: expected a date written YYYY-MM-DD…"
    assert len(shortened) <= 50


def test_punctuation_before_the_cut_is_dropped_and_line_breaks_are_flattened() -> None:
    assert shorten("first line,\nsecond line and a good deal more", 20) == "first line, second…"
    assert shorten("one, two, three, four", 12) == "one, two…"


def test_one_word_longer_than_the_cell_is_still_cut_and_marked() -> None:
    url = "https://example.org/" + "a" * 60

    assert shorten(url, 30) == url[:29] + "…"
