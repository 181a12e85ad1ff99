"""Building blocks of the scenarios: a seed with test addresses, settings, events and patient waiting."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from contracts.events.evaluations import RegionalReportDue, RegionalReportOverdue
from contracts.events.meetings import ActionItemAssigned
from services.notifications import cli
from services.notifications.settings import NotificationsSettings
from tests.support.http import LOCAL_RECEIVERS
from tests.support.infra import Infra
from tests.support.services import settings_for

AGREEMENT = "leve-hele-livet-2019-2023"
WEBHOOK_SECRET_ENV = "LHL_TEST_HDIR_WEBHOOK_SECRET"
WEBHOOK_SECRET = "s3cret-for-hdir"
MEETINGS_SOURCE = "/lhl/meetings"
EVALUATIONS_SOURCE = "/lhl/evaluations"
HOD_SYSTEM_SOURCE = "/hod/saksbehandling"

ADDRESS = {
    "hod": "leve-hele-livet@hod.lhl.test",
    "ks": "leve-hele-livet@ks.lhl.test",
    "hdir": "leve-hele-livet@hdir.lhl.test",
    "sf-vestland": "post@sf-vestland.lhl.test",
    "ks-vestland": "post@ks-vestland.lhl.test",
    "sf-rogaland": "post@sf-rogaland.lhl.test",
    "system-hod": "drift@hod.lhl.test",
}


def _organisation(org: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": org,
        "name": org,
        "kind": "organisation",
        "organisation": org,
        "agreements": [AGREEMENT],
        "contact_points": [{"id": f"{org}-epost", "email": ADDRESS[org]}, *(extra or [])],
    }


def write_seed(directory: Path, webhook_url: str) -> Path:
    hdir_hook = {"id": "hdir-webhook", "webhook_url": webhook_url, "signing_secret_env": WEBHOOK_SECRET_ENV}
    recipients = [_organisation(o) for o in ("hod", "ks", "sf-vestland", "ks-vestland", "sf-rogaland")]
    recipients.append(_organisation("hdir", [hdir_hook]))
    recipients.append(
        {
            "id": "system-hod",
            "name": "HODs saksbehandlingssystem",
            "kind": "system",
            "organisation": "hod",
            "sources": [HOD_SYSTEM_SOURCE],
            "agreements": [AGREEMENT],
            "contact_points": [{"id": "system-hod-drift", "email": ADDRESS["system-hod"]}],
        }
    )
    path = directory / "subscriptions.json"
    path.write_text(json.dumps({"recipients": recipients}), encoding="utf-8")
    return path


def webhook_secrets() -> dict[str, str]:
    """The secrets the service is given, by the name the seed's webhook names; its `.get` is the resolver, and a
    test can take a secret away while the service runs."""
    return {WEBHOOK_SECRET_ENV: WEBHOOK_SECRET}


def settings(infra: Infra, run_id: str, smtp_port: int, seed: Path, **overrides: Any) -> NotificationsSettings:
    return settings_for(
        NotificationsSettings,
        infra,
        run_id,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        subscriptions_seed=str(seed),
        delivery_poll_seconds=0.1,
        webhook_allowed_hosts=(LOCAL_RECEIVERS,),
        **overrides,
    )


def assigned(owner: str = "ks-vestland") -> ActionItemAssigned:
    return ActionItemAssigned(
        action_item_id=f"a-{uuid.uuid4().hex[:8]}",
        meeting_id=f"m-{uuid.uuid4().hex[:8]}",
        agreement_id=AGREEMENT,
        region="vestland",
        owner=owner,
        text="Invitere kommunene til læringsnettverk",
        due_on=date(2022, 4, 1),
    )


def report_overdue(region: str = "vestland") -> RegionalReportOverdue:
    return RegionalReportOverdue(agreement_id=AGREEMENT, region=region, reporting_date=date(2022, 5, 15))


def report_due(region: str = "vestland") -> RegionalReportDue:
    return RegionalReportDue(agreement_id=AGREEMENT, region=region, reporting_date=date(2022, 11, 1), days_left=14)


async def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail saying what never happened."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.05)


def of_type(events: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].endswith(suffix)]


def run_cli(settings: NotificationsSettings, *args: str) -> str:
    """The operator's CLI against the service's schema; call it in a thread, it runs its own event loop.

    Only what the CLI printed to stdout: the runner swaps the process's stderr while it runs, so a log line of the
    service running beside it in the test lands in `result.output` too."""
    env = {
        "DATABASE_URL": settings.database_url,
        "DB_SCHEMA": settings.schema_name,
        "WEBHOOK_ALLOWED_HOSTS": json.dumps(settings.webhook_allowed_hosts),
    }
    result = CliRunner().invoke(cli.app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout
