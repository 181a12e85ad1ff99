"""The subscriptions seed file: its schema, and the idempotent upsert run at every start."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts import catalog
from runtime.db import Connection
from runtime.definition import Running
from runtime.logging import get_logger
from runtime.webhook_targets import WebhookTargets
from services.notifications import domain
from services.notifications.repository import subscriptions
from services.notifications.settings import NotificationsSettings, SecretResolver

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class SeedError(ValueError):
    """The seed file is not valid; the message names the file and the field path."""


class _Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SeedContactPoint(_Closed):
    id: str = Field(pattern=_ID, max_length=120, description="Stable contact point id.")
    email: str | None = Field(default=None, description="E-mail address.")
    webhook_url: AnyHttpUrl | None = Field(default=None, description="Webhook URL (https in production).")
    signing_secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the webhook's signing secret (never the secret).",
    )

    @model_validator(mode="after")
    def _one_channel(self) -> SeedContactPoint:
        if (self.email is None) == (self.webhook_url is None):
            raise ValueError("give exactly one of email and webhook_url")
        if self.email is not None and not domain.is_email_address(self.email):
            raise ValueError(f"email: not an e-mail address: {self.email!r}")
        if self.webhook_url is not None and not self.signing_secret_env:
            raise ValueError("signing_secret_env: a webhook needs the name of its secret's environment variable")
        return self


class SeedFilter(_Closed):
    id: str = Field(pattern=_ID, max_length=120, description="Stable filter id.")
    event_types: tuple[str, ...] = Field(default=(), description="Event type names; empty means any.")
    regions: tuple[str, ...] = Field(default=(), description="Region ids; empty means any.")
    agreements: tuple[str, ...] = Field(default=(), description="Agreement ids; empty means any.")

    @model_validator(mode="after")
    def _known_types(self) -> SeedFilter:
        unknown = [t for t in self.event_types if t not in catalog.BY_NAME]
        if unknown:
            raise ValueError(f"event_types: unknown event type(s) {', '.join(unknown)}")
        return self


class SeedRecipient(_Closed):
    id: str = Field(pattern=_ID, max_length=120, description="Stable recipient id.")
    name: str = Field(min_length=1, description="Name in Norwegian.")
    kind: Literal["organisation", "system"] = Field(description="An organisation or role, or a publishing system.")
    organisation: str | None = Field(default=None, description="Organisation id from the reference data.")
    sources: tuple[str, ...] = Field(default=(), description="CloudEvents sources of a publishing system.")
    agreements: tuple[str, ...] = Field(description="Agreements the recipient subscribes to.")
    contact_points: tuple[SeedContactPoint, ...] = Field(default=(), description="Where to reach the recipient.")
    filters: tuple[SeedFilter, ...] = Field(default=(), description="Events beyond the defaults.")


class Seed(_Closed):
    recipients: tuple[SeedRecipient, ...]


def read(path: Path) -> Seed:
    try:
        return Seed.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False))
        raise SeedError(f"{path}: {where}") from error


async def apply(conn: Connection, seed: Seed, now: datetime, targets: WebhookTargets, secrets: SecretResolver) -> int:
    """Upsert every entry; returns how many webhooks were skipped for a missing secret or an address inside."""
    skipped = 0
    for r in seed.recipients:
        await subscriptions.upsert_recipient(
            conn, domain.Recipient(r.id, r.name, r.kind, r.organisation, r.sources, r.agreements), now
        )
        for cp in r.contact_points:
            if cp.email is not None:
                point = domain.ContactPoint(cp.id, r.id, "email", cp.email)
            else:
                unset = not (cp.signing_secret_env and secrets(cp.signing_secret_env))
                if unset or await targets.refusal(str(cp.webhook_url)):
                    skipped += 1
                    continue
                point = domain.ContactPoint(cp.id, r.id, "webhook", str(cp.webhook_url), cp.signing_secret_env)
            await subscriptions.upsert_contact_point(conn, point, now)
        for f in r.filters:
            await subscriptions.upsert_filter(
                conn, domain.Filter(f.id, r.id, f.event_types, f.regions, f.agreements), now
            )
    return skipped


async def load(running: Running, settings: NotificationsSettings, secrets: SecretResolver) -> None:
    """At start-up: the configured seed's subscriptions, upserted in one transaction."""
    if not settings.subscriptions_seed:
        return
    parsed = read(Path(settings.subscriptions_seed))
    async with running.pool.acquire() as conn, conn.transaction():
        skipped = await apply(
            conn, parsed, running.clock.now(), WebhookTargets(settings.webhook_allowed_hosts), secrets
        )
    get_logger(component="notifications").info(
        "subscriptions_seeded", recipients=len(parsed.recipients), skipped_webhooks=skipped
    )
