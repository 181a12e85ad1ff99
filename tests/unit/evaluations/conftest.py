"""Fixtures for the evaluations unit tests."""

from __future__ import annotations

import pytest

from contracts import reference


@pytest.fixture
def agreement() -> reference.Agreement:
    return reference.agreement(reference.DEFAULT_AGREEMENT_ID)
