"""Who is calling: an OAuth2 bearer token of a Maskinporten-like issuer, verified offline against its keys (JWKS).

The organisation comes from the token's `consumer.ID`, as Maskinporten writes it (`0192:<organisation number>`,
0192 being the ISO 6523 code of the Norwegian register), and maps to an organisation of the reference data, which
decides which sources it may publish as. Scopes come from `scope`, space-separated, as OAuth2 has them.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt

from contracts.reference import Organisation, Organisations
from services.gateway.problems import Problem

CONSUMER_AUTHORITY: Final = "iso6523-actorid-upis"
NORWEGIAN_REGISTER: Final = "0192"
REQUIRED_CLAIMS: Final = ("exp", "iat", "iss", "aud", "jti", "scope", "consumer")
VERIFIED_TOKENS_KEPT: Final = 1024
"""Tokens remembered as verified, the least recently used forgotten first: a few per calling system."""
NEVER: Final = frozenset({"none", "HS256", "HS384", "HS512"})
"""`none` proves nothing; an HMAC key is a shared secret, which a verifier of public keys must never accept."""


@dataclass(frozen=True)
class Caller:
    """A verified token: who the issuer vouches for, and what it may do."""

    organisation: Organisation
    organisation_number: str
    scopes: frozenset[str]
    issuer: str
    subject: str
    token_id: str

    def may_publish_as(self, source: str) -> bool:
        return source in self.organisation.sources


def _unauthorised(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated_caller",
        "The request carries no valid bearer token",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def lacking_scope(scope: str) -> Problem:
    return Problem(
        403,
        "insufficient_scope",
        "The token does not grant this",
        f"this operation needs the scope {scope}; ask the issuer for a token with it",
        headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
    )


class TokenVerifier:
    """Checks signature (by a key of the issuer's JWKS, with an allowed algorithm), issuer, audience and times."""

    def __init__(
        self,
        jwks: dict[str, Any],
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...],
        leeway_seconds: float,
        organisations: Organisations,
    ) -> None:
        if refused := NEVER.intersection(algorithms):
            raise ValueError(f"token_algorithms: {sorted(refused)} may never be accepted")
        self._keys = jwt.PyJWKSet.from_dict(jwks)
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._leeway = leeway_seconds
        self._organisations = organisations
        self._verified: OrderedDict[str, tuple[Caller, float]] = OrderedDict()

    @staticmethod
    def load_jwks(file: str | None, inline: str | None) -> dict[str, Any]:
        if inline:
            loaded: dict[str, Any] = json.loads(inline)
            return loaded
        if file:
            from_file: dict[str, Any] = json.loads(Path(file).read_text(encoding="utf-8"))
            return from_file
        raise ValueError("no issuer keys: set TOKEN_JWKS_FILE (a JWKS document) or TOKEN_JWKS (inline JSON)")

    def verify(self, authorization: str | None) -> Caller:
        if not authorization:
            raise _unauthorised("send the token as `Authorization: Bearer <token>`")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorised("the Authorization header must be `Bearer <token>`")
        # A client sends the same token with every request until it expires: its signature, issuer and audience
        # were checked the first time, so only its expiry needs checking again (a fifth of a request's CPU).
        known = self._verified.get(token.strip())
        if known is not None and time.time() < known[1] + self._leeway:
            self._verified.move_to_end(token.strip())
            return known[0]
        caller, expires = self._checked(token.strip())
        self._verified[token.strip()] = (caller, expires)
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return caller

    def _checked(self, token: str) -> tuple[Caller, float]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in self._algorithms:
                raise _unauthorised(f"the token's algorithm {header.get('alg')!r} is not accepted")
            key = self._key(header.get("kid"))
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as error:
            raise _unauthorised(f"the token is not valid: {error}") from error
        return self._caller(claims), float(claims["exp"])

    def _key(self, kid: object) -> jwt.PyJWK:
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key
        raise _unauthorised(f"the token is signed with key {kid!r}, which the issuer does not publish")

    def _caller(self, claims: dict[str, Any]) -> Caller:
        consumer = claims.get("consumer")
        consumer_id = consumer.get("ID") if isinstance(consumer, dict) else None
        if not isinstance(consumer_id, str) or not consumer_id.startswith(NORWEGIAN_REGISTER + ":"):
            raise _unauthorised(f"the token's consumer.ID must be `{NORWEGIAN_REGISTER}:<organisation number>`")
        number = consumer_id.removeprefix(NORWEGIAN_REGISTER + ":")
        organisation = self._organisations.by_number(number)
        if organisation is None:
            raise Problem(
                403,
                "unknown_organisation",
                "The organisation is not part of the collaboration",
                f"organisation number {number} is not registered in the reference data",
            )
        scope = claims.get("scope")
        if not isinstance(scope, str):
            raise _unauthorised("the token's scope must be a space-separated text")
        subject = claims.get("client_id") or claims.get("sub") or consumer_id
        return Caller(
            organisation=organisation,
            organisation_number=number,
            scopes=frozenset(scope.split()),
            issuer=str(claims["iss"]),
            subject=str(subject),
            token_id=str(claims["jti"]),
        )
