"""POST /events through real HTTP: what is accepted reaches the broker once, what is not is answered plainly."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from contracts import topics
from contracts.envelope import BATCH_CONTENT_TYPE, CONTENT_TYPE
from tests.support.events import vestland_meeting_held as held
from tests.support.gateway import PUBLISH, READ, bearer, gateway_settings, serving
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event

VESTLAND = "/statsforvalteren/vestland/moter"
CE = {"Content-Type": CONTENT_TYPE}


def meeting(meeting_id: str | None = None) -> dict[str, Any]:
    event = cloud_event(held(meeting_id or f"m-{uuid.uuid4().hex[:8]}"), source=VESTLAND, region="vestland")
    posted: dict[str, Any] = json.loads(event.to_bytes())
    return posted


async def test_a_valid_event_is_on_the_broker_once_even_when_the_post_is_retried(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    event = meeting()
    async with serving(gateway_settings(infra, run_id)) as gateway:
        first = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
        retried = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
        other = meeting()
        await gateway.client.post("/events", json=other, headers={**CE, **bearer("sf-vestland")})
        published = await bus.events(topics.MEETINGS_INGRESS, lambda es: any(e["id"] == other["id"] for e in es))
    assert first.status_code == 202, first.text
    assert first.json()["id"] == event["id"]
    assert first.json()["duplicate"] is False
    assert first.headers["location"] == first.json()["status"]
    assert first.json()["status"] == f"/events/statsforvalteren/vestland/moter/{event['id']}"
    assert retried.status_code == 202
    assert retried.json()["duplicate"] is True
    ours = [e for e in published if e["id"] == event["id"]]
    assert len(ours) == 1
    assert ours[0]["data"] == event["data"]
    assert json.loads(ours[0]["authclaims"])["org"] == "sf-vestland"
    assert ours[0]["dssematerial"]


async def test_concurrent_retries_of_one_event_publish_it_once(infra: Infra, run_id: str, bus: Bus) -> None:
    event, marker = meeting(), meeting()
    headers = {**CE, **bearer("sf-vestland")}
    async with serving(gateway_settings(infra, run_id)) as gateway:
        answers = await asyncio.gather(*(gateway.client.post("/events", json=event, headers=headers) for _ in range(6)))
        await gateway.client.post("/events", json=marker, headers=headers)
        published = await bus.events(topics.MEETINGS_INGRESS, lambda es: any(e["id"] == marker["id"] for e in es))
    assert [a.status_code for a in answers] == [202] * 6
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 5
    assert [e["id"] for e in published].count(event["id"]) == 1


async def test_a_retry_with_another_body_under_the_same_id_is_a_conflict(infra: Infra, run_id: str) -> None:
    event = meeting()
    changed = {**event, "data": {**event["data"], "held_on": "2022-03-11"}}
    async with serving(gateway_settings(infra, run_id)) as gateway:
        first = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
        second = await gateway.client.post("/events", json=changed, headers={**CE, **bearer("sf-vestland")})
    assert first.status_code == 202
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["type"] == "urn:levehelelivet:problem:conflicting_retry"


async def test_an_invalid_event_gets_a_400_naming_each_wrong_field(infra: Infra, run_id: str) -> None:
    event = meeting()
    event["data"]["held_on"] = "the tenth of March"
    event["data"]["county"] = 46
    del event["data"]["organiser"]
    async with serving(gateway_settings(infra, run_id)) as gateway:
        answer = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-vestland")})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 400
    assert problem["reason"] == "invalid_data"
    fields = {e["field"]: e["detail"] for e in problem["errors"]}
    assert set(fields) == {"data.held_on", "data.county", "data.organiser"}
    assert "YYYY-MM-DD" in fields["data.held_on"]
    assert "missing" in fields["data.organiser"]


async def test_a_token_without_the_publish_scope_gets_403(infra: Infra, run_id: str) -> None:
    async with serving(gateway_settings(infra, run_id)) as gateway:
        answer = await gateway.client.post("/events", json=meeting(), headers={**CE, **bearer("sf-vestland", READ)})
        no_token = await gateway.client.post("/events", json=meeting(), headers=CE)
    assert answer.status_code == 403
    assert answer.json()["type"] == "urn:levehelelivet:problem:insufficient_scope"
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
    assert no_token.status_code == 401


async def test_organisation_a_cannot_publish_as_organisation_b(infra: Infra, run_id: str, bus: Bus) -> None:
    event = meeting()
    async with serving(gateway_settings(infra, run_id)) as gateway:
        answer = await gateway.client.post("/events", json=event, headers={**CE, **bearer("sf-rogaland", PUBLISH)})
    assert answer.status_code == 403
    problem = answer.json()
    assert problem["reason"] == "unauthorised_source"
    assert problem["errors"][0]["field"] == "source"
    assert "sf-rogaland" in problem["errors"][0]["detail"]


async def test_a_batch_is_judged_whole_and_each_bad_event_is_named_by_its_position(infra: Infra, run_id: str) -> None:
    good, bad = meeting(), meeting()
    bad["data"]["held_on"] = "soon"
    batch_headers = {"Content-Type": BATCH_CONTENT_TYPE, **bearer("sf-vestland")}
    async with serving(gateway_settings(infra, run_id)) as gateway:
        refused = await gateway.client.post("/events", json=[good, bad], headers=batch_headers)
        accepted = await gateway.client.post("/events", json=[good, meeting()], headers=batch_headers)
        wrong_type = await gateway.client.post(
            "/events", content=b"hello", headers={"Content-Type": "text/plain", **bearer("sf-vestland")}
        )
    assert refused.status_code == 400
    assert [(e["index"], e["field"]) for e in refused.json()["errors"]] == [(1, "data.held_on")]
    assert accepted.status_code == 202
    assert [a["duplicate"] for a in accepted.json()["accepted"]] == [False, False]
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"] == "application/problem+json"


async def test_a_type_the_organisation_may_never_send_and_a_derived_type_are_forbidden(
    infra: Infra, run_id: str
) -> None:
    notice = meeting()
    notice["type"] = "no.levehelelivet.agreement.termination-notice-given.v1"  # only the agreement's parties send it
    derived = {**meeting(), "type": "no.levehelelivet.meeting.recorded.v1"}
    async with serving(gateway_settings(infra, run_id)) as gateway:
        party_only = await gateway.client.post("/events", json=notice, headers={**CE, **bearer("sf-vestland")})
        service_only = await gateway.client.post("/events", json=derived, headers={**CE, **bearer("sf-vestland")})
    assert party_only.status_code == 403
    assert party_only.json()["errors"][0]["field"] == "type"
    assert "sf-vestland may not send" in party_only.json()["errors"][0]["detail"]
    assert service_only.status_code == 403
    assert "only by the meetings service" in service_only.json()["errors"][0]["detail"]


async def test_a_body_or_batch_over_the_limits_is_refused_with_a_problem_document(infra: Infra, run_id: str) -> None:
    settings = gateway_settings(infra, run_id, max_body_bytes=20_000, max_batch_events=3)
    batch_headers = {"Content-Type": BATCH_CONTENT_TYPE, **bearer("sf-vestland")}
    async with serving(settings) as gateway:
        too_many = await gateway.client.post("/events", json=[meeting() for _ in range(4)], headers=batch_headers)
        padded = {**meeting(), "padding": "x" * 1900}
        too_large = await gateway.client.post("/events", json=[padded] * 11, headers=batch_headers)
        signed = await gateway.client.post(
            "/events", json={**meeting(), "dssematerial": "abc"}, headers={**CE, **bearer("sf-vestland")}
        )
    assert (too_many.status_code, too_many.json()["type"]) == (413, "urn:levehelelivet:problem:batch_too_large")
    assert (too_large.status_code, too_large.json()["type"]) == (413, "urn:levehelelivet:problem:body_too_large")
    assert too_large.headers["content-type"] == "application/problem+json"
    assert signed.status_code == 400
    assert signed.json()["errors"][0]["field"] == "dssematerial"
