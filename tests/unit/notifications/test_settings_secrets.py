"""In production the service's own environment resolves a webhook's secret, at each use."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.settings import NotificationsSettings


def test_the_production_resolver_reads_the_variable_a_contact_point_names_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = f"LHL_TEST_SECRET_{uuid.uuid4().hex.upper()}"
    resolve = NotificationsSettings().secret
    assert resolve(name) is None
    monkeypatch.setenv(name, "s3cret")
    assert resolve(name) == "s3cret"
