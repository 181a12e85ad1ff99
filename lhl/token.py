"""`lhl token`: a bearer token of the local issuer, as Maskinporten would give an organisation's system.

The local issuer's key is made by the stack launcher (`deploy/issuer.py`); the gateway trusts its JWKS. In
production the tokens come from Maskinporten and this command has no key to sign with.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import jwt
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from contracts.reference import Organisation, organisations
from deploy import issuer


class LocalIssuer:
    """Mints RS256 tokens shaped as Maskinporten's: `consumer.ID` 0192:<organisation number>, `scope`, `jti`."""

    def __init__(self, key: RSAPrivateKey, name: str = issuer.ISSUER, audience: str = issuer.AUDIENCE) -> None:
        self.key = key
        self.name = name
        self.audience = audience
        modulus = key.public_key().public_numbers().n
        raw = modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")
        self.key_id = issuer.key_id(raw)
        self._jwks = issuer.jwks_of(raw, key.public_key().public_numbers().e)

    @classmethod
    def from_file(cls, path: Path) -> LocalIssuer:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError(f"{path}: not an RSA private key")
        return cls(key)

    def jwks(self) -> dict[str, Any]:
        return dict(self._jwks)

    def mint(
        self, organisation_number: str, scopes: list[str], *, lifetime_seconds: int = 120, **overrides: Any
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.name,
            "aud": self.audience,
            "scope": " ".join(scopes),
            "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{organisation_number}"},
            "client_id": f"lhl-local-{organisation_number}",
            "iat": now,
            "exp": now + lifetime_seconds,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.key_id})


def find_organisation(name: str) -> Organisation:
    for org in organisations().organisations:
        if name in (org.id, org.organisation_number):
            return org
    raise typer.BadParameter(f"no organisation {name!r} (give its id, e.g. sf-vestland, or its organisation number)")


def token_command(
    organisation: Annotated[str, typer.Argument(help="The organisation's id (e.g. sf-vestland) or its number.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A scope to grant; repeat. Default lhl:events.publish and lhl:events.read."),
    ] = None,
    lifetime: Annotated[int, typer.Option(help="Seconds the token is valid.")] = 120,
    key: Annotated[
        Path | None, typer.Option(help="The issuer's key; default LHL_ISSUER_KEY, as `deploy.stack env` sets it.")
    ] = None,
) -> None:
    """Print a bearer token of the local issuer for an organisation, as Maskinporten would give its system.

    Example: `curl -H "Authorization: Bearer $(lhl token sf-vestland)" http://127.0.0.1:8085/feed`
    """
    org = find_organisation(organisation)
    if org.organisation_number is None:
        raise typer.BadParameter(f"{org.id} has no organisation number in the reference data")
    path = key or Path(os.environ.get("LHL_ISSUER_KEY", ".local/credentials/issuer.pem"))
    try:
        local = LocalIssuer.from_file(path)
    except (OSError, ValueError) as error:
        typer.echo(f"cannot read the issuer's key {path}: {error}; `make up` makes it", err=True)
        raise typer.Exit(1) from error
    typer.echo(
        local.mint(
            org.organisation_number, scope or ["lhl:events.publish", "lhl:events.read"], lifetime_seconds=lifetime
        )
    )
