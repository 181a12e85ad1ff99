"""The endpoint validation handshake: only an echo of the challenge counts, and an unanswered endpoint fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.notifications import handshake
from services.notifications.domain import Filter

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_an_answer_that_echoes_the_challenge_validates_the_endpoint() -> None:
    assert handshake.refusal(200, json.dumps({"challenge": "c-1"}).encode(), "c-1") is None


def test_a_bare_200_does_not_validate_the_endpoint() -> None:
    refused = handshake.refusal(200, b"", "c-1")
    assert refused is not None
    assert "not JSON" in refused


def test_an_echo_of_another_challenge_does_not_validate_the_endpoint() -> None:
    refused = handshake.refusal(200, json.dumps({"challenge": "c-0"}).encode(), "c-1")
    assert refused is not None
    assert "does not echo" in refused


def test_an_error_status_is_the_reason_given() -> None:
    refused = handshake.refusal(404, json.dumps({"challenge": "c-1"}).encode(), "c-1")
    assert refused is not None
    assert "HTTP 404" in refused


def test_the_request_is_a_cloudevent_carrying_the_challenge_and_the_subscription() -> None:
    body = json.loads(
        handshake.request(
            "s-1", "c-1", event_id="e-1", source="/lhl/notifications", endpoint="https://x.example/h", now=NOW
        )
    )
    assert body["type"] == "no.levehelelivet.subscription.validation.v1"
    assert body["specversion"] == "1.0"
    assert body["data"]["challenge"] == "c-1"
    assert body["data"]["subscription_id"] == "s-1"


def test_an_unanswered_endpoint_is_asked_again_until_the_attempts_run_out() -> None:
    assert handshake.next_check_at(1, NOW, max_attempts=3, retry_seconds=60) == NOW + timedelta(seconds=60)
    assert handshake.next_check_at(3, NOW, max_attempts=3, retry_seconds=60) is None


def test_an_active_subscription_is_a_system_recipient_of_every_agreement_signed_with_its_organisations_secret() -> None:
    recipient, point = handshake.as_recipient("s-1", "sf-vestland", "https://x.example/h", (), ("a-1", "a-2"))
    assert (recipient.recipient_id, recipient.kind, recipient.agreements) == ("http-s-1", "system", ("a-1", "a-2"))
    assert recipient.sources == ()
    assert (point.channel, point.address) == ("webhook", "https://x.example/h")
    assert point.signing_secret_env == "LHL_WEBHOOK_SECRET_ORG_SF_VESTLAND"


def test_a_filter_on_sources_picks_only_events_of_those_sources() -> None:
    only = Filter("f", "r", sources=("/lhl/evaluations",))
    assert only.matches("t", None, "a", "/lhl/evaluations")
    assert not only.matches("t", None, "a", "/lhl/meetings")
    assert Filter("f", "r").matches("t", None, "a", "/lhl/meetings")
