"""The local token issuer: an RSA key made once per installation, standing in for Maskinporten in the demo and tests.

Made with the openssl tool, like the broker's TLS key, because the launcher runs before the virtual environment
exists. The private key (`credentials/issuer.pem`, 0600) signs the tokens `lhl token` mints; the public half is
published as a JWKS document (`credentials/issuer-jwks.json`), which the gateway trusts as it would Maskinporten's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from deploy import credentials, system

ISSUER = "http://127.0.0.1/lhl-local-issuer"
AUDIENCE = "lhl-gateway"


def key_file(state: Path) -> Path:
    return credentials.folder(state) / "issuer.pem"


def jwks_file(state: Path) -> Path:
    return credentials.folder(state) / "issuer-jwks.json"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(modulus: bytes) -> str:
    """The JWK's `kid`: the first 16 hex digits of SHA-256 of the modulus; `lhl token` computes it the same way."""
    return hashlib.sha256(modulus).hexdigest()[:16]


def jwks_of(modulus: bytes, exponent: int) -> dict[str, object]:
    raw_exponent = exponent.to_bytes((exponent.bit_length() + 7) // 8, "big")
    return {
        "keys": [
            {
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": key_id(modulus),
                "n": _b64url(modulus),
                "e": _b64url(raw_exponent),
            }
        ]
    }


def ensure(state: Path) -> Path:
    """Make the issuer's key and its JWKS unless they exist; returns the JWKS file."""
    key, published = key_file(state), jwks_file(state)
    if key.is_file() and published.is_file():
        return published
    openssl = system.require_tool("issuer", "openssl", "openssl")
    credentials.folder(state).mkdir(mode=0o700, parents=True, exist_ok=True)
    if not key.is_file():
        system.log(f"issuer: making the local token issuer's key in {key}")
        partial = key.with_suffix(".partial")
        system.run(
            [openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(partial)],
            what="issuer: openssl genpkey",
            timeout=60,
        )
        os.chmod(partial, 0o600)
        partial.replace(key)
    modulus_line = system.run([openssl, "rsa", "-in", str(key), "-noout", "-modulus"], what="issuer: modulus")
    modulus = bytes.fromhex(modulus_line.strip().removeprefix("Modulus="))
    # openssl genpkey always uses the public exponent 65537 unless told otherwise.
    published.write_text(json.dumps(jwks_of(modulus, 65537), indent=2) + "\n")
    return published
