"""Receipts and the feed through real HTTP, read from the audit trail that the real audit service records."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from contracts.signing import GATEWAY, service_source
from services.meetings.app import create_app as meetings_app
from services.meetings.settings import MeetingsSettings
from services.notifications.app import create_app as notifications_app
from tests.integration.audit.helpers import audit_cli, audit_settings, running_audit
from tests.integration.gateway.test_publish import CE, meeting
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer
from tests.support.gateway import READ, bearer, gateway_settings, serving
from tests.support.infra import Infra
from tests.support.services import running, settings_for
from tests.support.signing import keys_for_tests


async def answer_until(
    ask: Callable[[], Awaitable[httpx.Response]], done: Callable[[httpx.Response], bool], timeout: float = 45
) -> httpx.Response:
    async with asyncio.timeout(timeout):
        while True:  # polling over HTTP, as an integrator would: there is no event to wait on
            answer = await ask()
            if done(answer):
                return answer
            await asyncio.sleep(0.3)


def cancellation(held: dict[str, Any]) -> dict[str, Any]:
    """A cancellation of a meeting that was held: valid by the contract, refused by the meetings service's rules."""
    data = {k: held["data"][k] for k in ("meeting_id", "agreement_id", "kind", "region")}
    return {
        **held,
        "id": str(uuid.uuid4()),
        "type": "no.levehelelivet.meeting.cancelled.v1",
        "dataschema": "urn:levehelelivet:schema:meeting.cancelled:v1",
        "data": {**data, "reason": "Avlyst"},
    }


def _told(receipt: httpx.Response) -> bool:
    """Every caused event there, and the action item for KS Vestland (which has an e-mail address) told."""
    caused = receipt.json()["caused"] if receipt.status_code == 200 else []
    return len(caused) >= 5 and any(c["deliveries"] for c in caused)


async def test_an_accepted_event_is_processed_and_its_receipt_lists_what_it_caused_and_who_was_told(
    infra: Infra, run_id: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    event = meeting()
    path = f"/events/statsforvalteren/vestland/moter/{event['id']}"
    audit = audit_settings(infra, run_id, tmp_path)
    seed = sc.write_seed(tmp_path, "http://127.0.0.1:9/unused")
    async with (
        running(meetings_app(settings_for(MeetingsSettings, infra, run_id))),
        running(notifications_app(sc.settings(infra, run_id, smtp.port, seed))),
        running_audit(audit),
        serving(gateway_settings(infra, run_id)) as gateway,
    ):
        posted = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
        reader = bearer("sf-vestland", READ)
        receipt = await answer_until(lambda: gateway.client.get(path, headers=reader), _told)
        cancel = cancellation(event)
        await gateway.client.post("/events", json=cancel, headers={**CE, **bearer("sf-vestland")})
        refused = await answer_until(
            lambda: gateway.client.get(f"/events/statsforvalteren/vestland/moter/{cancel['id']}", headers=reader),
            lambda r: r.status_code == 200 and r.json()["status"] == "rejected",
        )
        verified = await audit_cli(audit, "verify")
        elsewhere = await gateway.client.get(path, headers=bearer("sf-rogaland", READ))
        unknown = await gateway.client.get(f"{path}-nothing", headers=bearer("sf-vestland", READ))
    assert posted.status_code == 202
    assert posted.json()["status"] == path
    body = receipt.json()
    assert body["status"] == "processed"
    assert body["type"] == "no.levehelelivet.meeting.held.v1"
    assert body["received_at"] is not None
    caused = sorted((".".join(c["type"].split(".")[2:4]), c["source"]) for c in body["caused"])
    # The items were due in 2022: past due on today's clock, so marked overdue with their assignment.
    assert caused == [
        ("action-item.assigned", "/lhl/meetings"),
        ("action-item.assigned", "/lhl/meetings"),
        ("action-item.overdue", "/lhl/meetings"),
        ("action-item.overdue", "/lhl/meetings"),
        ("meeting.recorded", "/lhl/meetings"),
    ]
    told = {(d["recipient"], d["channel"], d["outcome"]) for c in body["caused"] for d in c["deliveries"]}
    assert ("ks-vestland", "email", "delivered") in told
    assert len(smtp.to(sc.ADDRESS["ks-vestland"])) >= 1
    # A rule only the service can judge (it needs the meeting's state): accepted by the gateway, rejected behind it.
    [why] = refused.json()["rejections"]
    assert why["reason"] == "rule_violated"
    assert "a held meeting cannot be cancelled" in why["message"]
    assert elsewhere.status_code == 403
    assert unknown.status_code == 404
    # The proof of who sent it stays in the audit: the gateway's registered key signed it, for sf-vestland's token.
    conn = await asyncpg.connect(infra.service_database_url("audit"))
    try:
        row = await conn.fetchrow(
            f"SELECT kind, signed_by_key, envelope FROM t{run_id}_audit.audit_log WHERE event_id = $1", event["id"]
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["kind"] == "event"
    assert row["signed_by_key"] == keys_for_tests().signer(service_source(GATEWAY)).key_id
    claims = json.loads(json.loads(row["envelope"])["authclaims"])
    assert claims["org"] == "sf-vestland"
    assert claims["consumer"].startswith("0192:")
    # `lhl audit verify` checks the gateway's signature, and so the claims it covers, like any publisher's.
    assert verified.exit_code == 0, verified.stdout


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for page in pages for e in page["events"]]


async def _all_pages(client: httpx.AsyncClient, headers: dict[str, str], after: str | None) -> list[dict[str, Any]]:
    pages = []
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        page = (await client.get("/feed", params=params, headers=headers)).json()
        pages.append(page)
        if not page["events"]:
            return pages
        after = page["next"]


async def test_the_feed_gives_every_event_once_across_pages_and_a_restart(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    before = [meeting() for _ in range(5)]
    after_restart = [meeting() for _ in range(3)]
    reader = bearer("hdir", READ)
    audit = audit_settings(infra, run_id, tmp_path)
    settings = gateway_settings(infra, run_id)
    async with running_audit(audit):
        async with serving(settings) as gateway:
            for event in before:
                await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
            await answer_until(
                lambda: gateway.client.get("/feed", params={"limit": "100"}, headers=reader),
                lambda r: len(r.json()["events"]) == len(before),
            )
            first = await _all_pages(gateway.client, reader, None)
            regional = (await gateway.client.get("/feed", headers=bearer("sf-rogaland", READ))).json()
            bad_cursor = await gateway.client.get("/feed", params={"after": "not-ours"}, headers=reader)
        async with serving(settings) as gateway:
            for event in after_restart:
                await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
            await answer_until(
                lambda: gateway.client.get("/feed", params={"limit": "100"}, headers=reader),
                lambda r: len(r.json()["events"]) == len(before) + len(after_restart),
            )
            rest = await _all_pages(gateway.client, reader, first[-1]["next"])
    assert _ids(first) == [e["id"] for e in before]
    assert all(len(page["events"]) <= 2 for page in first)
    assert _ids(rest) == [e["id"] for e in after_restart]
    assert regional["events"] == []  # Rogaland's office reads Rogaland's and national events, not Vestland's
    assert bad_cursor.status_code == 400
    assert uuid.UUID(first[0]["events"][0]["id"])


async def test_before_the_audit_ever_ran_the_feed_answers_503_with_a_problem(infra: Infra, run_id: str) -> None:
    async with serving(gateway_settings(infra, run_id)) as gateway:
        answer = await gateway.client.get("/feed", headers=bearer("hdir", READ))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:levehelelivet:problem:audit_trail_unavailable"
    assert answer.headers["retry-after"] == "5"
