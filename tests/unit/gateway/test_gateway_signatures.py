"""A gateway signature stands for an organisation only where that organisation owns the event's source."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import CloudEvent
from contracts.keys import KeyRegistry, RegisteredKey, raw_public
from contracts.signing import AUTH_CLAIMS, GATEWAY, Signer, Unauthenticated, service_source, sign_event, verify
from contracts.wire import structured_view
from tests.support.events import vestland_meeting_held
from tests.support.kafka import cloud_event

GATEWAY_KEY = Signer.of(Ed25519PrivateKey.generate())
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
VESTLAND = "/statsforvalteren/vestland/moter"


def registry() -> KeyRegistry:
    import base64

    public = base64.b64encode(raw_public(GATEWAY_KEY.key.public_key())).decode()
    return KeyRegistry(
        [
            RegisteredKey(
                key_id=GATEWAY_KEY.key_id, sources=(service_source(GATEWAY),), public_key=public, valid_from=SINCE
            )
        ]
    )


def through_gateway(org: str, source: str = VESTLAND) -> CloudEvent:
    event = cloud_event(vestland_meeting_held("m-1"), source=source, region="vestland")
    claims = json.dumps({"iss": "i", "sub": "s", "consumer": "0192:1", "org": org, "jti": "j"})
    extended = CloudEvent.model_validate({**event.model_dump(), AUTH_CLAIMS: claims})
    return sign_event(extended, GATEWAY_KEY)


def check(event: CloudEvent) -> None:
    verify(structured_view(event.to_bytes()), registry(), datetime.now(UTC))


def test_the_gateway_signs_for_the_organisation_that_owns_the_source() -> None:
    check(through_gateway("sf-vestland"))


def test_the_gateway_cannot_vouch_for_a_source_of_another_organisation() -> None:
    with pytest.raises(Unauthenticated, match="gateway signed it"):
        check(through_gateway("sf-rogaland"))


def test_the_claims_cannot_be_changed_after_the_gateway_signed_them() -> None:
    signed = through_gateway("sf-rogaland", source="/statsforvalteren/rogaland/moter")
    moved = signed.model_copy(update={"source": VESTLAND})
    with pytest.raises(Unauthenticated):
        check(moved)


def test_without_claims_a_gateway_signature_proves_nothing_about_an_organisation() -> None:
    event = sign_event(cloud_event(vestland_meeting_held("m-2"), source=VESTLAND, region="vestland"), GATEWAY_KEY)
    with pytest.raises(Unauthenticated, match="claims source"):
        check(event)
