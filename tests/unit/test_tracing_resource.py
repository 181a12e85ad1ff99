"""The spans' resource follows the standard OpenTelemetry variables, with our name only as the default."""

from __future__ import annotations

import pytest

from runtime.tracing import resource


def test_without_variables_a_service_is_named_lhl_and_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)

    assert resource("meetings").attributes["service.name"] == "lhl-meetings"


def test_otel_service_name_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "meetings-eu-north")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.namespace=lhl")

    attributes = resource("meetings").attributes

    assert attributes["service.name"] == "meetings-eu-north"
    assert attributes["deployment.environment"] == "prod"
    assert attributes["service.namespace"] == "lhl"


def test_a_service_name_in_the_resource_attributes_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=audit-replica")

    assert resource("audit").attributes["service.name"] == "audit-replica"
