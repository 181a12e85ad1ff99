"""What the gateway refuses in a subscription before it is stored: unknown names, and regions beyond read rights."""

from __future__ import annotations

import pytest

from contracts.reference import organisations
from services.gateway.auth import Caller
from services.gateway.problems import Problem
from services.gateway.settings import GatewaySettings
from services.gateway.subscriptions import SubscriptionRequest, parse, within_rights

SETTINGS = GatewaySettings(token_jwks="{}")


def caller(organisation_id: str) -> Caller:
    organisation = next(o for o in organisations().organisations if o.id == organisation_id)
    return Caller(organisation, "000000000", frozenset({"lhl:subscriptions"}), "iss", "sub", "jti")


def asked(**fields: object) -> SubscriptionRequest:
    return SubscriptionRequest.model_validate({"endpoint": "https://hooks.example/lhl", **fields})


def test_a_regional_organisation_without_regions_subscribes_to_its_own_and_the_national_level() -> None:
    narrowed = within_rights(asked(), caller("sf-vestland"), SETTINGS)
    assert narrowed.regions == ("vestland", "national")


def test_a_regional_organisation_may_not_subscribe_to_another_region() -> None:
    with pytest.raises(Problem) as refused:
        within_rights(asked(regions=["rogaland"]), caller("sf-vestland"), SETTINGS)
    assert refused.value.status == 400
    assert [(e.field, "rogaland" in e.detail) for e in refused.value.errors] == [("regions", True)]


def test_a_national_organisation_may_subscribe_to_any_region() -> None:
    assert within_rights(asked(regions=["rogaland"]), caller("hdir"), SETTINGS).regions == ("rogaland",)


def test_unknown_event_types_and_agreements_are_named() -> None:
    with pytest.raises(Problem) as refused:
        within_rights(asked(event_types=["no.such.type"], agreements=["no-such"]), caller("hdir"), SETTINGS)
    assert [e.field for e in refused.value.errors] == ["event_types", "agreements"]


def test_a_body_that_is_not_a_subscription_is_a_400_naming_each_field() -> None:
    with pytest.raises(Problem) as refused:
        parse(b'{"endpoint": "ftp://x.example/", "colour": "blue"}')
    assert refused.value.status == 400
    assert sorted(e.field for e in refused.value.errors) == ["colour", "endpoint"]


def test_a_webhook_only_type_is_not_an_event_to_subscribe_to() -> None:
    with pytest.raises(Problem) as refused:
        within_rights(asked(event_types=["no.levehelelivet.subscription.validation.v1"]), caller("hdir"), SETTINGS)
    assert [e.field for e in refused.value.errors] == ["event_types"]
