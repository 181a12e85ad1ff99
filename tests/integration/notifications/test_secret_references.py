"""Webhook signing secrets never reach the database: a contact point names the variable, resolved at each send."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg

from contracts import topics
from runtime import db
from services.notifications.app import MIGRATIONS, create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running

SECRET = sc.WEBHOOK_SECRET


async def every_stored_text(runtime_pool: asyncpg.Pool) -> str:
    async with runtime_pool.acquire() as conn:
        rows = await conn.fetch("SELECT row_to_json(c)::text AS row FROM contact_points c")
    return "\n".join(r["row"] for r in rows)


async def test_the_database_holds_the_variables_name_and_a_missing_variable_is_retried_saying_which(
    infra: Infra,
    run_id: str,
    bus: Bus,
    smtp: SmtpServer,
    webhook: WebhookServer,
    tmp_path: Path,
) -> None:
    secrets = sc.webhook_secrets()
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url))
    app = create_app(settings, secrets=secrets.get)
    overdue = cloud_event(sc.report_overdue("rogaland"), source=sc.EVALUATIONS_SOURCE, region="rogaland")
    async with running(app) as runtime:
        stored = await every_stored_text(runtime.pool)
        # The secret disappears from what the service is given (its environment, in production) before the first send.
        del secrets[sc.WEBHOOK_SECRET_ENV]
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        [row] = await sc.eventually(
            lambda: fetch(
                runtime,
                "SELECT status, attempts, last_error FROM deliveries WHERE channel = 'webhook' AND attempts = 1",
            ),
            "the webhook delivery is attempted once",
        )
    assert SECRET not in stored
    assert f'"signing_secret_env":"{sc.WEBHOOK_SECRET_ENV}"' in stored
    assert (row["status"], row["last_error"]) == (
        "pending",
        f"{sc.WEBHOOK_SECRET_ENV} is not set in the notifications service",
    )
    assert webhook.requests == []


async def test_a_secret_stored_by_the_first_version_is_dropped_and_its_variable_named(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    # Named like the service's own folder, so the runner knows 001 as the same migration afterwards.
    first_version = tmp_path / "notifications" / "migrations"
    first_version.mkdir(parents=True)
    shutil.copy(MIGRATIONS / "001_notifications.sql", first_version)
    pool = await db.create_pool(infra.service_database_url("notifications"), f"t{run_id}_notifications")
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS, first_version])
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO recipients (recipient_id, name, kind) VALUES ('hdir', 'Hdir', 'organisation')"
            )
            await conn.execute(
                "INSERT INTO contact_points (contact_point_id, recipient_id, channel, address, signing_secret)"
                " VALUES ('hdir-hook.1', 'hdir', 'webhook', 'https://hdir.example/hook', $1)",
                SECRET,
            )
        applied = await db.migrate(pool, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
        stored = await every_stored_text(pool)
    finally:
        await pool.close()
    assert "notifications/002_secret_references" in applied
    assert SECRET not in stored
    assert '"signing_secret_env":"LHL_WEBHOOK_SECRET_HDIR_HOOK_1"' in stored
