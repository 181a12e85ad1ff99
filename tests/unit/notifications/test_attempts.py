"""What a delivery attempt comes to: delivered, a retry on the backoff schedule, or a failure that says why;
and the attempts settled without reaching the channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.attempts import (
    DELIVERED,
    MAX_ERROR_LENGTH,
    Delivered,
    Failed,
    Retry,
    RetryPolicy,
    Sent,
    after_attempt,
    known_without_sending,
)

T0 = datetime(2022, 5, 16, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    delays_seconds=(10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200), max_attempts=12, horizon_seconds=48 * 3600
)
HTTP_503 = Sent(ok=False, error="HTTP 503 from webhook")
SMTP_550 = Sent(ok=False, error="recipient refused: 550 no such mailbox", permanent=True)


def test_a_first_attempt_that_succeeds_is_delivered_now_after_one_attempt() -> None:
    assert after_attempt(DELIVERED, 0, None, T0, POLICY) == Delivered(attempts=1, first_attempt_at=T0, delivered_at=T0)


def test_a_retry_that_succeeds_keeps_the_first_attempts_time_and_counts_every_attempt() -> None:
    now = T0 + timedelta(seconds=40)
    assert after_attempt(DELIVERED, 2, T0, now, POLICY) == Delivered(attempts=3, first_attempt_at=T0, delivered_at=now)


def test_a_transient_error_on_the_first_attempt_is_retried_ten_seconds_later() -> None:
    decision = after_attempt(HTTP_503, 0, None, T0, POLICY)
    assert decision == Retry(
        attempts=1, first_attempt_at=T0, error="HTTP 503 from webhook", next_attempt_at=T0 + timedelta(seconds=10)
    )


def test_retries_back_off_along_the_schedule_and_the_last_delay_repeats() -> None:
    waits = []
    for before in range(11):
        decision = after_attempt(HTTP_503, before, T0, T0, POLICY)
        assert isinstance(decision, Retry)
        assert decision.attempts == before + 1
        waits.append(int((decision.next_attempt_at - T0).total_seconds()))
    assert waits == [10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 43200]


def test_a_transient_error_on_the_last_attempt_fails_and_says_it_was_not_permanent() -> None:
    now = T0 + timedelta(hours=40)
    decision = after_attempt(HTTP_503, 11, T0, now, POLICY)
    assert decision == Failed(
        attempts=12, first_attempt_at=T0, error="HTTP 503 from webhook", permanent=False, failed_at=now
    )


def test_a_transient_error_whose_retry_would_pass_the_horizon_fails_now() -> None:
    now = T0 + timedelta(hours=47, minutes=55)
    decision = after_attempt(HTTP_503, 5, T0, now, POLICY)
    assert decision == Failed(
        attempts=6, first_attempt_at=T0, error="HTTP 503 from webhook", permanent=False, failed_at=now
    )


def test_a_permanent_error_fails_at_once_however_many_attempts_are_left() -> None:
    decision = after_attempt(SMTP_550, 0, None, T0, POLICY)
    assert decision == Failed(
        attempts=1, first_attempt_at=T0, error="recipient refused: 550 no such mailbox", permanent=True, failed_at=T0
    )


def test_a_failure_without_a_message_is_recorded_as_an_unknown_error() -> None:
    decision = after_attempt(Sent(ok=False), 0, None, T0, POLICY)
    assert isinstance(decision, Retry)
    assert decision.error == "unknown error"


def test_a_long_error_is_cut_to_the_length_the_row_and_the_event_keep() -> None:
    decision = after_attempt(Sent(ok=False, error="x" * 5000, permanent=True), 0, None, T0, POLICY)
    assert isinstance(decision, Failed)
    assert decision.error == "x" * MAX_ERROR_LENGTH


def send(
    *,
    accepted_before: bool = False,
    contact_point_removed: bool = False,
    channel: str = "webhook",
    secret: str | None = "s3cret",
) -> Sent | None:
    return known_without_sending(
        accepted_before=accepted_before,
        contact_point_removed=contact_point_removed,
        channel=channel,
        secret_name="LHL_WEBHOOK_SECRET_HDIR",
        secret=secret,
    )


def test_a_message_with_its_secret_and_a_live_contact_point_goes_to_the_channel() -> None:
    assert send() is None
    assert send(channel="email", secret=None) is None


def test_a_message_the_recipient_already_accepted_counts_as_delivered_without_a_second_send() -> None:
    assert send(accepted_before=True) == DELIVERED
    assert send(accepted_before=True, contact_point_removed=True, secret=None) == DELIVERED


def test_a_removed_contact_point_fails_permanently() -> None:
    assert send(contact_point_removed=True) == Sent(
        ok=False, error="the contact point was removed before delivery", permanent=True
    )


def test_a_webhook_whose_secret_is_unset_is_retried_naming_the_variable() -> None:
    expected = Sent(ok=False, error="LHL_WEBHOOK_SECRET_HDIR is not set in the notifications service")
    assert send(secret=None) == expected
    assert send(secret="") == expected
    assert isinstance(after_attempt(expected, 0, None, T0, POLICY), Retry)
