"""The tests' report of an exception nobody could catch names it, even where pytest's own report cannot."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.unraisable import _depth, reporting


class Leaky:
    pass


def test_an_unraisable_event_is_named_with_its_object_and_frames_and_handed_on(
    capfd: pytest.CaptureFixture[str],
) -> None:
    def finalizer() -> None:
        raise RuntimeError("a finalizer failed")

    try:
        finalizer()
    except RuntimeError as error:
        event = SimpleNamespace(
            exc_type=RuntimeError, exc_value=error, exc_traceback=error.__traceback__, err_msg=None, object=Leaky()
        )
    handed: list[Any] = []
    here = _depth(sys._getframe())
    reporting(handed.append)(event)
    line = capfd.readouterr().err
    assert "unraisable RuntimeError: 'a finalizer failed'" in line
    assert "Leaky object at" in line
    assert "test_unraisable_report.py" in line
    assert "finalizer" in line
    assert f"at stack depth {here + 1};" in line  # the hook's frame on top of this test's
    assert handed == [event]


def test_the_event_is_handed_on_when_the_line_itself_fails(capfd: pytest.CaptureFixture[str]) -> None:
    handed: list[Any] = []
    broken = SimpleNamespace()  # no attributes at all: writing the line fails
    reporting(handed.append)(broken)
    assert handed == [broken]
    assert capfd.readouterr().err == ""
