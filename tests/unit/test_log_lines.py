"""What operators read: a start's normal group-forming noise is not an error, a real error is, and a line logged
inside a span names its trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from aiokafka.errors import GroupCoordinatorNotAvailableError, NotLeaderForPartitionError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from runtime.logging import configure_logging, get_logger

COORDINATOR = logging.getLogger("aiokafka.consumer.group_coordinator")


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """configure_logging writes to the stderr of the moment, here pytest's capture, which is closed after the test:
    put back what was configured before, so later tests do not log into a closed file."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_group_forming_errors_at_startup_are_logged_as_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("meetings", fmt="json")

    COORDINATOR.error("Group Coordinator Request failed: %s", GroupCoordinatorNotAvailableError())
    logging.getLogger("aiokafka.cluster").error(
        "Error fetching metadata for topic %s: %s", "t", NotLeaderForPartitionError
    )

    assert [line["level"] for line in lines(capsys)] == ["info", "info"]


def test_a_real_error_at_startup_stays_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("meetings", fmt="json")

    logging.getLogger("aiokafka.client").error("Unable connect to node with id %s: %s", 1, "Connection refused")
    logging.getLogger("lhl.faststream").error("Group Coordinator Request failed: GroupCoordinatorNotAvailableError")

    assert [line["level"] for line in lines(capsys)] == ["error", "error"]


def test_the_same_errors_long_after_the_start_stay_errors(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("meetings", fmt="json", startup_grace_seconds=0)

    COORDINATOR.error("Group Coordinator Request failed: %s", GroupCoordinatorNotAvailableError())

    assert [line["level"] for line in lines(capsys)] == ["error"]


def test_quieted_lines_are_dropped_when_the_log_level_is_above_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("meetings", level="WARNING", fmt="json")

    COORDINATOR.error("Group Coordinator Request failed: %s", GroupCoordinatorNotAvailableError())
    COORDINATOR.error("Heartbeat session expired - marking coordinator dead")

    assert [(line["level"], line["event"]) for line in lines(capsys)] == [
        ("error", "Heartbeat session expired - marking coordinator dead")
    ]


def test_a_line_inside_a_span_names_its_trace_and_span(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("meetings", fmt="json")
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("consume") as span:
        get_logger().info("event_processed")
        logging.getLogger("tests.a_library").warning("something in a library")  # any stdlib logger, as aiokafka
    get_logger().info("service_stopped")

    inside, library, outside = lines(capsys)
    context = span.get_span_context()
    assert (inside["trace_id"], inside["span_id"]) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert library["trace_id"] == inside["trace_id"]
    assert "trace_id" not in outside
    assert "span_id" not in outside
    assert trace.get_current_span().get_span_context().is_valid is False


def test_a_logger_made_before_logging_is_configured_follows_the_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A service's parts are built before the runtime configures logging (the audit's intake is): their loggers
    must still write JSON at the configured level, or an operator's pipeline misses their lines."""
    structlog.reset_defaults()
    early = get_logger(component="audit")
    configure_logging("audit", level="WARNING", fmt="json")

    early.info("audit_checkpoint_written")
    early.error("audit_batch_failed", size=3)

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [line for line in err.splitlines() if line.startswith("{")]
    assert [(line["level"], line["event"], line["component"]) for line in map(json.loads, err.splitlines())] == [
        ("error", "audit_batch_failed", "audit")
    ]
