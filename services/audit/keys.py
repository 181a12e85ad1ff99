"""Creating the Ed25519 key pair that signs checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNING_FILE = "audit-signing-key.pem"
VERIFY_FILE = "audit-verify-key.pem"


def generate(directory: Path) -> tuple[Path, Path]:
    """Write a new private key (owner-only) and its public key as PEM; refuse to overwrite an existing key."""
    signing, verifying = directory / SIGNING_FILE, directory / VERIFY_FILE
    if signing.exists() or verifying.exists():
        raise FileExistsError(f"{directory}: a key pair exists already; move it away to make a new one")
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created owner-only from the start, so the secret is never readable by others, not even briefly.
    descriptor = os.open(signing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        target.write(private_pem)
    verifying.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return signing, verifying
