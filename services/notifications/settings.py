"""Settings of the notifications service: SMTP, webhooks, the retry schedule and the subscriptions seed."""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import Field, PositiveInt, SecretStr

from contracts.reference import DATA_DIR
from runtime.settings import RuntimeSettings

DEFAULT_SEED = str(DATA_DIR / "subscriptions.json")

SecretResolver = Callable[[str], str | None]
"""A secret by the name a contact point gives for it (a webhook's signing secret); None or empty when it is unset.
The composition root builds it and hands it to whoever needs a secret, so no other module reads the environment
and a test gives its own."""


class NotificationsSettings(RuntimeSettings):
    service_name: str = "notifications"

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, if the server needs a login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one SMTP conversation.")
    mail_from: str = Field(default="leve-hele-livet@lhl.invalid", description="Sender address of every e-mail.")

    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of one webhook POST.")
    webhook_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts (names or addresses, as in the URL) a webhook may reach although they are, or resolve to, "
        "loopback, private or link-local addresses; for tests and local development only. "
        "E.g. WEBHOOK_ALLOWED_HOSTS='[\"127.0.0.1\"]'.",
    )

    retry_delays_seconds: tuple[PositiveInt, ...] = Field(
        default=(10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200),
        min_length=1,
        description="Delay before each retry; the last one repeats.",
    )
    max_attempts: int = Field(default=12, ge=1, description="Attempts before a delivery is given up.")
    retry_horizon_seconds: int = Field(
        default=48 * 3600, gt=0, description="No retry is scheduled later than this after the first attempt."
    )
    delivery_poll_seconds: float = Field(default=1.0, gt=0, description="How often the worker looks for due rows.")
    delivery_concurrency: int = Field(
        default=4, ge=1, le=64, description="Deliveries in flight at once, so one slow endpoint does not hold up all."
    )

    rejection_digest_seconds: int = Field(
        default=900,
        gt=0,
        description="Rejections of one source are told by e-mail at most once per this many seconds, in one message.",
    )
    rejection_digest_max_listed: int = Field(
        default=20, ge=1, description="Rejections listed in full in one such e-mail; the rest are counted."
    )

    subscription_check_attempts: int = Field(
        default=5, ge=1, description="Validation requests sent to a new HTTP subscription's endpoint before it fails."
    )
    subscription_check_retry_seconds: float = Field(
        default=60.0, gt=0, description="Seconds between validation requests to an endpoint that did not answer."
    )
    subscription_check_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the handshake worker looks for new and removed HTTP subscriptions."
    )
    subscription_writer_roles: tuple[str, ...] = Field(
        default=("lhl_gateway",),
        description="Database roles that may request and remove HTTP subscriptions (column grants; the gateway's).",
    )

    subscriptions_seed: str | None = Field(
        default=DEFAULT_SEED, description="Seed file of recipients, contact points and filters; upserted at start."
    )

    def secret(self, name: str) -> str | None:
        """The production `SecretResolver`: the service's environment. Looked up at each use, never kept, so a
        secret appears in no settings dump, and one set by an operator counts from the next start."""
        return os.environ.get(name)
