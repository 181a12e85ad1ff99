"""What the gateway decides before any I/O: who may send what, what it adds and signs, and where a page of the feed
begins."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.reference import ReferenceData, organisations
from contracts.rejections import Rejected
from contracts.signing import Signer
from lhl import access, services
from services.gateway.auth import Caller
from services.gateway.feed import cursor, position, visible_regions
from services.gateway.judging import Forbidden, Judged, digest_of, judge
from services.gateway.problems import Problem
from tests.support.events import vestland_meeting_held
from tests.support.kafka import cloud_event

CHECKS = services.admission(ReferenceData.load())
SIGNER = Signer.of(Ed25519PrivateKey.generate())


def caller(organisation_id: str) -> Caller:
    org = next(o for o in organisations().organisations if o.id == organisation_id)
    return Caller(org, str(org.organisation_number), frozenset(), "issuer", "client", "token-1")


def posted() -> dict[str, object]:
    event = cloud_event(vestland_meeting_held("m-1"), source="/statsforvalteren/vestland/moter", region="vestland")
    loaded: dict[str, object] = json.loads(event.to_bytes())
    return loaded


def decide(event: object, who: str = "sf-vestland") -> Judged:
    return judge(event, caller(who), CHECKS, lambda name, org: access.SENDERS[name](org), SIGNER)


def test_an_accepted_event_carries_the_callers_authcontext_and_the_gateways_signature() -> None:
    judged = decide(posted())
    event = judged.event
    assert event.model_extra is not None
    claims = json.loads(event.model_extra["authclaims"])
    assert claims == {
        "iss": "issuer",
        "sub": "client",
        "consumer": f"0192:{caller('sf-vestland').organisation_number}",
        "org": "sf-vestland",
        "jti": "token-1",
    }
    assert event.model_extra["authtype"] == "service_account"
    assert event.dssematerial
    assert judged.topic == "lhl.ingress.meetings.v1"


def test_the_digest_ignores_member_order_but_not_content() -> None:
    event = posted()
    assert digest_of(event) == digest_of(dict(reversed(list(event.items()))))
    assert digest_of(event) != digest_of({**event, "id": "another"})


def test_another_organisations_source_is_forbidden_before_the_contract_is_read() -> None:
    broken = {**posted(), "data": "not even an object"}
    with pytest.raises(Forbidden, match="source"):
        decide(broken, "sf-rogaland")
    with pytest.raises(Rejected):
        decide(broken)


def test_a_cursor_is_opaque_stable_and_refused_when_forged() -> None:
    assert position(cursor(41)) == 41
    assert position(None) == 0
    with pytest.raises(Problem):
        position("c2VxOm5vdC1hLW51bWJlcg")  # "seq:not-a-number"


def test_a_regional_organisation_reads_its_region_and_the_national_level_a_national_one_everything() -> None:
    assert visible_regions(caller("sf-vestland")) == ("vestland", "national")
    assert visible_regions(caller("hdir")) is None
