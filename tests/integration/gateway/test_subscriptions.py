"""Webhook subscriptions over HTTP: made through the gateway, validated by the endpoint, then delivered to by the
notifications service; refused for a target inside, without the scope, and invisible to other organisations."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from contracts import topics
from services.notifications.app import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications import scenario as sc
from tests.support.gateway import READ, bearer, gateway_settings, serving
from tests.support.http import LOCAL_RECEIVERS, LocalHttpServer, Request
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running, settings_for

SUBSCRIBE = "lhl:subscriptions"
VALIDATION = "no.levehelelivet.subscription.validation.v1"
OVERDUE = "no.levehelelivet.report.overdue.v1"
SECRET = "agreed-at-onboarding-with-sf-vestland"
SECRET_ENV = "LHL_WEBHOOK_SECRET_ORG_SF_VESTLAND"


class Endpoint(LocalHttpServer):
    """An integrator's webhook endpoint: echoes the validation challenge on /echo, answers `{}` on /silent, and on
    /verbose echoes it inside an answer longer than the service reads."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []

    def url(self, path: str) -> str:
        return f"http://{LOCAL_RECEIVERS}:{self.port}/{path}"

    def answer(self, request: Request) -> bytes:
        self.requests.append(request)
        event = json.loads(request.body)
        body = b"{}"
        if event["type"] == VALIDATION and request.path == "/echo":
            body = json.dumps({"challenge": event["data"]["challenge"]}).encode()
        if event["type"] == VALIDATION and request.path == "/verbose":
            body = json.dumps({"challenge": event["data"]["challenge"], "about": "x" * 70_000}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return head.encode() + b"Connection: close\r\n\r\n" + body

    def received(self, path: str, event_type: str) -> list[Request]:
        return [r for r in self.requests if r.path == path and json.loads(r.body)["type"] == event_type]


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    server = Endpoint()
    await server.start()
    yield server
    await server.stop()


def notifications_settings(infra: Infra, run_id: str, **overrides: Any) -> NotificationsSettings:
    """No seed: the only recipients are the subscriptions the test makes over HTTP."""
    return settings_for(
        NotificationsSettings,
        infra,
        run_id,
        subscriptions_seed="",
        delivery_poll_seconds=0.1,
        subscription_check_poll_seconds=0.1,
        webhook_allowed_hosts=(LOCAL_RECEIVERS,),
        **overrides,
    )


def signed_by(secret: str, request: Request) -> bool:
    timestamp = request.headers["x-lhl-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["x-lhl-signature"], f"sha256={expected}")


def overdue_reports(endpoint: Endpoint, path: str) -> dict[str, Any]:
    return {"endpoint": endpoint.url(path), "event_types": [OVERDUE], "regions": ["vestland"]}


async def test_a_subscription_is_validated_by_its_endpoint_then_gets_the_events_it_picks(
    infra: Infra, run_id: str, bus: Bus, endpoint: Endpoint
) -> None:
    notifications = notifications_settings(
        infra, run_id, subscription_check_attempts=2, subscription_check_retry_seconds=0.2
    )
    gateway = gateway_settings(
        infra, run_id, notifications_schema=notifications.schema_name, webhook_allowed_hosts=(LOCAL_RECEIVERS,)
    )
    owner = bearer("sf-vestland", SUBSCRIBE)
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    # The service's secret resolver knows the organisation's secret: the handshake and the deliveries sign with it.
    secrets = {SECRET_ENV: SECRET}.get
    async with running(notifications_app(notifications, secrets=secrets)) as runtime, serving(gateway) as http:
        made = await http.client.post("/subscriptions", json=overdue_reports(endpoint, "echo"), headers=owner)
        silent = await http.client.post("/subscriptions", json=overdue_reports(endpoint, "silent"), headers=owner)
        verbose = await http.client.post("/subscriptions", json=overdue_reports(endpoint, "verbose"), headers=owner)
        path, silent_path = made.headers["location"], silent.headers["location"]
        active = await sc.eventually(
            lambda: _status(http.client, path, owner, "active"), "the echoing endpoint's subscription is active"
        )
        failed = await sc.eventually(
            lambda: _status(http.client, silent_path, owner, "failed"), "the silent endpoint's subscription failed"
        )
        too_long = await sc.eventually(
            lambda: _status(http.client, verbose.headers["location"], owner, "failed"),
            "the subscription whose endpoint answers at length failed",
        )
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        [delivered] = await sc.eventually(lambda: endpoint.received("/echo", OVERDUE), "the event is delivered")
        to_silent = await fetch(
            runtime,
            "SELECT 1 FROM deliveries WHERE about_event_id = $1 AND recipient_id <> $2",
            overdue.id,
            "http-" + made.json()["id"],
        )
        listed = await http.client.get("/subscriptions", headers=owner)
        deleted = await http.client.delete(path, headers=owner)
        retired = await sc.eventually(
            lambda: fetch(
                runtime,
                "SELECT 1 FROM contact_points WHERE contact_point_id = $1 AND removed_at IS NOT NULL",
                "http-" + made.json()["id"],
            ),
            "the deleted subscription's contact point is removed, so nothing more is delivered to it",
        )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending"
    assert made.json()["regions"] == ["vestland"]
    [handshake] = endpoint.received("/echo", VALIDATION)
    assert handshake.headers["x-lhl-subscription-id"] == made.json()["id"]
    assert signed_by(SECRET, handshake)
    assert active["validated_at"] is not None
    assert active["reason"] is None
    assert failed["validation_attempts"] == 2
    assert "does not echo the validation request's challenge" in failed["reason"]
    assert json.loads(delivered.body)["id"] == overdue.id
    assert signed_by(SECRET, delivered)
    assert "the endpoint's answer is longer than 65536 bytes" in too_long["reason"]
    assert endpoint.received("/silent", OVERDUE) == []
    assert endpoint.received("/verbose", OVERDUE) == []
    assert to_silent == []
    subscribed = [made.json()["id"], silent.json()["id"], verbose.json()["id"]]
    assert sorted(s["id"] for s in listed.json()["subscriptions"]) == sorted(subscribed)
    assert deleted.status_code == 204
    assert len(retired) == 1


async def _status(client: Any, path: str, headers: dict[str, str], wanted: str) -> dict[str, Any] | None:
    answer = await client.get(path, headers=headers)
    body: dict[str, Any] = answer.json()
    return body if answer.status_code == 200 and body["status"] == wanted else None


async def _with_reason(client: Any, path: str, headers: dict[str, str]) -> dict[str, Any] | None:
    answer = await client.get(path, headers=headers)
    body: dict[str, Any] = answer.json()
    return body if answer.status_code == 200 and body["reason"] is not None else None


async def test_an_endpoint_inside_the_network_is_refused_with_a_problem_naming_the_field(
    infra: Infra, run_id: str
) -> None:
    notifications = notifications_settings(infra, run_id)
    gateway = gateway_settings(
        infra, run_id, notifications_schema=notifications.schema_name, webhook_allowed_hosts=(LOCAL_RECEIVERS,)
    )
    owner = bearer("sf-vestland", SUBSCRIBE)
    async with running(notifications_app(notifications)), serving(gateway) as http:
        answers = {
            target: await http.client.post("/subscriptions", json={"endpoint": target}, headers=owner)
            for target in ("http://10.20.30.40/hook", "http://169.254.169.254/latest", "http://127.0.0.2:8080/hook")
        }
        listed = await http.client.get("/subscriptions", headers=owner)
    for target, answer in answers.items():
        assert answer.status_code == 400, target
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"] == "urn:levehelelivet:problem:webhook_target_refused"
        assert [e["field"] for e in problem["errors"]] == ["endpoint"]
    assert "private" in answers["http://10.20.30.40/hook"].json()["detail"]
    assert "link-local" in answers["http://169.254.169.254/latest"].json()["detail"]
    assert "loopback" in answers["http://127.0.0.2:8080/hook"].json()["detail"]
    assert listed.json() == {"subscriptions": []}


async def test_a_token_without_the_scope_gets_403_and_another_organisation_neither_sees_nor_deletes(
    infra: Infra, run_id: str, endpoint: Endpoint
) -> None:
    notifications = notifications_settings(infra, run_id)
    gateway = gateway_settings(
        infra, run_id, notifications_schema=notifications.schema_name, webhook_allowed_hosts=(LOCAL_RECEIVERS,)
    )
    owner, other = bearer("sf-vestland", SUBSCRIBE), bearer("sf-rogaland", SUBSCRIBE)
    body = {"endpoint": endpoint.url("echo"), "event_types": [OVERDUE]}
    no_secrets: dict[str, str] = {}
    async with running(notifications_app(notifications, secrets=no_secrets.get)), serving(gateway) as http:
        unscoped = await http.client.post("/subscriptions", json=body, headers=bearer("sf-vestland", READ))
        unscoped_list = await http.client.get("/subscriptions", headers=bearer("sf-vestland", READ))
        made = await http.client.post("/subscriptions", json=body, headers=owner)
        path = made.headers["location"]
        seen_by_other = await http.client.get(path, headers=other)
        listed_by_other = await http.client.get("/subscriptions", headers=other)
        deleted_by_other = await http.client.delete(path, headers=other)
        # No secret is set for sf-vestland in this test: the handshake waits, and says why.
        still_there = await sc.eventually(
            lambda: _with_reason(http.client, path, owner), "the pending subscription shows why it waits"
        )
        deleted = await http.client.delete(path, headers=owner)
        gone = await http.client.get(path, headers=owner)
    assert unscoped.status_code == 403
    assert unscoped.json()["type"] == "urn:levehelelivet:problem:insufficient_scope"
    assert unscoped_list.status_code == 403
    assert made.status_code == 201, made.text
    assert seen_by_other.status_code == 404
    assert seen_by_other.headers["content-type"] == "application/problem+json"
    assert listed_by_other.json() == {"subscriptions": []}
    assert deleted_by_other.status_code == 404
    assert still_there["status"] == "pending"
    assert still_there["reason"] == f"{SECRET_ENV} is not set in the notifications service"
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_the_gateway_may_request_and_remove_but_never_activate_a_subscription_itself(
    infra: Infra, run_id: str
) -> None:
    notifications = notifications_settings(infra, run_id)
    async with running(notifications_app(notifications)):
        conn = await asyncpg.connect(infra.service_database_url("gateway"))
        try:
            table = f"{notifications.schema_name}.http_subscriptions"
            await conn.execute(
                f"INSERT INTO {table} (subscription_id, organisation, endpoint) VALUES ('s-1', 'hdir', 'https://h.example')"
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"UPDATE {table} SET status = 'active' WHERE subscription_id = 's-1'")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"SELECT * FROM {notifications.schema_name}.contact_points")
            removed = await conn.execute(f"UPDATE {table} SET removed_at = now() WHERE subscription_id = 's-1'")
        finally:
            await conn.close()
    assert removed == "UPDATE 1"


async def test_before_the_notifications_service_prepared_subscriptions_the_gateway_answers_503(
    infra: Infra, run_id: str
) -> None:
    gateway = gateway_settings(infra, run_id, notifications_schema=f"t{run_id}_notifications")
    async with serving(gateway) as http:
        answer = await http.client.get("/subscriptions", headers=bearer("hdir", SUBSCRIBE))
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:levehelelivet:problem:subscriptions_unavailable"
    assert answer.headers["retry-after"] == "60"
