"""Bearer tokens: only the configured issuer's, for this audience, in time, with an allowed algorithm."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts.reference import organisations
from lhl.token import LocalIssuer
from services.gateway.auth import TokenVerifier
from services.gateway.problems import Problem

ISSUER = LocalIssuer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
VESTLAND = next(o for o in organisations().organisations if o.id == "sf-vestland")
NUMBER = str(VESTLAND.organisation_number)


def verifier(leeway: float = 30) -> TokenVerifier:
    return TokenVerifier(ISSUER.jwks(), ISSUER.name, ISSUER.audience, ("RS256",), leeway, organisations())


def refusal(token: str) -> Problem:
    with pytest.raises(Problem) as refused:
        verifier().verify(f"Bearer {token}")
    return refused.value


def test_a_token_of_the_issuer_names_the_organisation_and_its_scopes() -> None:
    caller = verifier().verify(f"Bearer {ISSUER.mint(NUMBER, ['lhl:events.publish', 'lhl:events.read'])}")
    assert caller.organisation.id == "sf-vestland"
    assert caller.scopes == {"lhl:events.publish", "lhl:events.read"}
    assert caller.may_publish_as("/statsforvalteren/vestland/moter")
    assert not caller.may_publish_as("/statsforvalteren/rogaland/moter")


def test_another_issuer_or_audience_is_refused() -> None:
    assert refusal(ISSUER.mint(NUMBER, ["x"], iss="https://elsewhere.example/")).status == 401
    assert "audience" in refusal(ISSUER.mint(NUMBER, ["x"], aud="another-api")).detail.lower()


def test_an_expired_token_is_refused_beyond_the_leeway_only() -> None:
    now = int(time.time())
    assert refusal(ISSUER.mint(NUMBER, ["x"], iat=now - 600, exp=now - 60)).status == 401
    caller = verifier().verify(f"Bearer {ISSUER.mint(NUMBER, ['x'], iat=now - 600, exp=now - 10)}")
    assert caller.organisation.id == "sf-vestland"


def test_an_unsigned_token_or_one_signed_with_a_shared_secret_is_refused() -> None:
    claims = {"iss": ISSUER.name, "aud": ISSUER.audience, "scope": "x", "jti": "j", "iat": int(time.time())}
    claims |= {"exp": int(time.time()) + 60, "consumer": {"ID": f"0192:{NUMBER}"}}
    assert refusal(jwt.encode(claims, "", algorithm="none")).status == 401
    assert refusal(jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256")).status == 401
    with pytest.raises(ValueError, match="never"):
        TokenVerifier(ISSUER.jwks(), ISSUER.name, ISSUER.audience, ("RS256", "none"), 30, organisations())


def test_a_key_the_issuer_does_not_publish_is_refused() -> None:
    stranger = LocalIssuer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert refusal(stranger.mint(NUMBER, ["x"])).status == 401


def test_an_organisation_outside_the_collaboration_is_forbidden() -> None:
    assert refusal(ISSUER.mint("991825827", ["x"])).status == 403
    assert refusal(ISSUER.mint(NUMBER, ["x"], consumer={"ID": f"9908:{NUMBER}"})).status == 401


def test_no_header_or_another_scheme_is_unauthorised() -> None:
    with pytest.raises(Problem) as missing:
        verifier().verify(None)
    with pytest.raises(Problem) as basic:
        verifier().verify("Basic dXNlcjpwYXNz")
    assert (missing.value.status, basic.value.status) == (401, 401)
    assert missing.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_verified_once_is_still_refused_once_it_has_expired() -> None:
    checking = verifier(leeway=0)
    token = ISSUER.mint(NUMBER, ["x"], exp=int(time.time()) + 1)
    assert checking.verify(f"Bearer {token}").organisation.id == "sf-vestland"
    time.sleep(1.1)
    with pytest.raises(Problem) as expired:
        checking.verify(f"Bearer {token}")
    assert expired.value.status == 401
