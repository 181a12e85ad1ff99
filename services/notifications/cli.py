"""Operator CLI for subscriptions and failed deliveries: `python -m services.notifications.cli --help`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from contracts import catalog, reference
from runtime import db
from runtime.db import Connection
from runtime.webhook_targets import WebhookTargets
from services.notifications import domain
from services.notifications.app import MIGRATIONS
from services.notifications.repository import deliveries, subscriptions
from services.notifications.settings import NotificationsSettings

app = typer.Typer(help="Subscriptions and failed deliveries of the notifications service.", no_args_is_help=True)
failures_app = typer.Typer(help="Deliveries that gave up.", no_args_is_help=True)
app.add_typer(failures_app, name="failures")

T = TypeVar("T")
Csv = Annotated[str, typer.Option(help="Comma-separated; empty means any.")]


def _run(work: Callable[[Connection, datetime], Awaitable[T]]) -> T:
    """Run one unit of work in a transaction on the service's schema, with the settings from the environment."""

    async def main() -> T:
        settings = NotificationsSettings()
        pool = await db.create_pool(settings.database_url, settings.schema_name, max_size=1)
        try:
            await db.migrate(pool, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn, datetime.now(UTC))
        finally:
            await pool.close()

    return asyncio.run(main())


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$")


def _check_ids(**ids: str) -> None:
    """Ids travel in the outcome events, so they must be valid business ids there too."""
    for name, value in ids.items():
        if not _ID.match(value):
            _fail(
                f"{name}: {value!r} must be letters, digits and . _ : - (at most 120), starting with a letter or digit"
            )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command("list")
def list_subscriptions() -> None:
    """Print recipients with their contact points and filters as JSON (webhook secrets are never stored).

    Example: `lhl subscriptions list`
    """
    subs = _run(lambda conn, _: subscriptions.load_subscriptions(conn))
    out: list[dict[str, Any]] = []
    for r in subs.recipients:
        out.append(
            {
                "id": r.recipient_id,
                "name": r.name,
                "kind": r.kind,
                "organisation": r.organisation,
                "sources": list(r.sources),
                "agreements": list(r.agreements),
                "contact_points": [
                    _contact_point(cp) for cp in subs.contact_points if cp.recipient_id == r.recipient_id
                ],
                "filters": [
                    {"id": f.filter_id, "event_types": f.event_types, "regions": f.regions, "agreements": f.agreements}
                    for f in subs.filters
                    if f.recipient_id == r.recipient_id
                ],
            }
        )
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _contact_point(cp: domain.ContactPoint) -> dict[str, str]:
    shown = {"id": cp.contact_point_id, "channel": cp.channel, "address": cp.address}
    if cp.signing_secret_env is not None:
        shown["signing_secret_env"] = cp.signing_secret_env
    return shown


@app.command("add-recipient")
def add_recipient(
    recipient_id: str,
    name: Annotated[str, typer.Option(help="Name in Norwegian.")],
    kind: Annotated[str, typer.Option(help="organisation or system.")] = "organisation",
    organisation: Annotated[str | None, typer.Option(help="Organisation id from the reference data.")] = None,
    sources: Csv = "",
    agreements: Csv = "leve-hele-livet-2019-2023",
) -> None:
    """Add or update a recipient.

    Example: `lhl subscriptions add-recipient system-ks-agder --name "KS Agder" --kind system --sources /ks/agder`
    """
    _check_ids(recipient_id=recipient_id)
    if kind not in ("organisation", "system"):
        _fail(f"--kind: expected organisation or system, got {kind!r}")
    if organisation is not None:
        try:
            reference.organisations().get(organisation, datetime.now(UTC).date(), reference.regions())
        except reference.ReferenceDataError as error:
            _fail(f"--organisation: {error}")
    recipient = domain.Recipient(recipient_id, name, kind, organisation, _split(sources), _split(agreements))
    _run(lambda conn, now: subscriptions.upsert_recipient(conn, recipient, now))
    typer.echo(f"recipient {recipient_id} saved")


@app.command("add-contact-point")
def add_contact_point(
    recipient_id: str,
    contact_point_id: str,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Webhook URL.")] = None,
    signing_secret_env: Annotated[
        str | None,
        typer.Option(help="Environment variable of the notifications service that holds the webhook's secret."),
    ] = None,
) -> None:
    """Add or update an e-mail address, or a webhook URL with the name of its signing secret's variable.

    The secret itself never goes into the database: set it in the notifications service's environment.

    Example: `lhl subscriptions add-contact-point ks-agder ks-agder-hook --webhook-url https://ks.example/hooks
    --signing-secret-env LHL_WEBHOOK_SECRET_KS_AGDER`
    """
    _check_ids(recipient_id=recipient_id, contact_point_id=contact_point_id)
    if (email is None) == (webhook_url is None):
        _fail("give exactly one of --email and --webhook-url")
    if email is not None and not domain.is_email_address(email):
        _fail(f"--email: not an e-mail address: {email!r}")
    if webhook_url is not None and not webhook_url.startswith(("https://", "http://")):
        _fail(f"--webhook-url: expected an http(s) URL, got {webhook_url!r}")
    if webhook_url is not None and not signing_secret_env:
        _fail("--signing-secret-env: a webhook needs the name of its secret's environment variable")
    if webhook_url is not None:
        targets = WebhookTargets(NotificationsSettings().webhook_allowed_hosts)
        refused = asyncio.run(targets.refusal(webhook_url))
        if refused is not None:
            _fail(f"--webhook-url: {refused}; a webhook may only reach public addresses")
    if signing_secret_env is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", signing_secret_env):
        _fail(f"--signing-secret-env: expected an environment variable name in upper case, got {signing_secret_env!r}")
    channel, address = ("email", email) if email is not None else ("webhook", webhook_url)
    assert address is not None
    point = domain.ContactPoint(contact_point_id, recipient_id, channel, address, signing_secret_env)

    async def save(conn: Connection, now: datetime) -> bool:
        if await conn.fetchval("SELECT 1 FROM recipients WHERE recipient_id = $1 AND removed_at IS NULL", recipient_id):
            await subscriptions.upsert_contact_point(conn, point, now)
            return True
        return False

    if not _run(save):
        _fail(f"recipient_id: no recipient {recipient_id!r}")
    typer.echo(f"contact point {contact_point_id} saved")


@app.command("add-filter")
def add_filter(
    recipient_id: str,
    filter_id: str,
    event_types: Csv = "",
    regions: Csv = "",
    agreements: Csv = "",
) -> None:
    """Opt a recipient in to events beyond the defaults.

    Example: `lhl subscriptions add-filter hdir hdir-reports --event-types no.levehelelivet.report.received.v1`
    """
    _check_ids(recipient_id=recipient_id, filter_id=filter_id)
    unknown = [t for t in _split(event_types) if t not in catalog.BY_NAME]
    if unknown:
        _fail(f"--event-types: unknown event type(s): {', '.join(unknown)}")
    flt = domain.Filter(filter_id, recipient_id, _split(event_types), _split(regions), _split(agreements))
    _run(lambda conn, now: subscriptions.upsert_filter(conn, flt, now))
    typer.echo(f"filter {filter_id} saved")


@app.command("remove")
def remove(
    what: Annotated[str, typer.Argument(help="recipient, contact-point or filter.")],
    ident: str,
) -> None:
    """Remove a recipient, contact point or filter (it stays removed when the seed is applied again).

    Example: `lhl subscriptions remove contact-point ks-agder-hook`
    """
    if what not in ("recipient", "contact-point", "filter"):
        _fail(f"what: expected recipient, contact-point or filter, got {what!r}")
    if not _run(lambda conn, now: subscriptions.remove(conn, what, ident, now)):
        _fail(f"ident: no {what} {ident!r}")
    typer.echo(f"{what} {ident} removed")


@failures_app.command("list")
def failures_list() -> None:
    """Deliveries that gave up, oldest first, as JSON lines.

    Example: `lhl subscriptions failures list`
    """
    for row in _run(lambda conn, _: deliveries.failures(conn)):
        typer.echo(json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in dict(row).items()}))


@failures_app.command("retry")
def failures_retry(
    notification_ids: Annotated[list[str] | None, typer.Argument(help="Ids to requeue; none means all.")] = None,
) -> None:
    """Requeue failed deliveries; the worker sends them with a fresh retry budget.

    Example: `lhl subscriptions failures retry 3f0c8a1e-...` (no ids: every failed delivery)
    """
    ids = notification_ids or []
    requeued = _run(lambda conn, now: deliveries.requeue(conn, ids, now))
    typer.echo(f"requeued {len(requeued)}: {' '.join(requeued)}")


if __name__ == "__main__":
    app()
