"""The installation's keys: private key files (owner-only) and the registry of public keys beside them."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import keys
from contracts.keys import RegisteredKey
from contracts.signing import SERVICE_SOURCE_PREFIX, Signer, service_source
from runtime.settings import RuntimeSettings


def create_key_file(path: Path) -> Signer:
    """A new Ed25519 private key as PKCS#8 PEM, created owner-only; never overwrites a key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        target.write(pem)
    return Signer.of(key)


def register(
    registry: Path, signer: Signer, sources: Sequence[str], valid_from: datetime, valid_to: datetime | None = None
) -> RegisteredKey:
    """Add the signer's public key to the registry for these sources (replacing an entry of the same key)."""
    public = keys.raw_public(signer.key.public_key())
    entry = RegisteredKey(
        key_id=signer.key_id,
        sources=tuple(sources),
        public_key=base64.b64encode(public).decode("ascii"),
        valid_from=valid_from,
        valid_to=valid_to,
    )
    others = [k for k in keys.read(registry) if k.key_id != entry.key_id]
    keys.write(registry, [*others, entry])
    return entry


def retire(registry: Path, key_id: str, at: datetime) -> RegisteredKey:
    """End a key's validity at `at`: its signatures are refused from then on (rotation, or revocation)."""
    current = keys.read(registry)
    found = [k for k in current if k.key_id == key_id]
    if not found:
        raise KeyError(f"key {key_id} is not in {registry}")
    ended = found[0].model_copy(update={"valid_to": at})
    RegisteredKey.model_validate(ended.model_dump())
    keys.write(registry, [ended if k.key_id == key_id else k for k in current])
    return ended


def ensure_key(path: Path, registry: Path, sources: Sequence[str], valid_from: datetime) -> Signer:
    """The key in `path`, created and registered for the sources if it is missing, so a fresh machine just works."""
    signer = Signer.from_file(path) if path.is_file() else create_key_file(path)
    if not any(k.key_id == signer.key_id for k in keys.read(registry)):
        register(registry, signer, sources, valid_from)
    return signer


def key_file(keys_dir: Path, source: str) -> Path:
    """Where `lhl keys generate` puts the key of a source: <keys_dir>/<service>.pem for a service of this system,
    <keys_dir>/sources/<source with / as _>.pem for a publisher."""
    if source.startswith(SERVICE_SOURCE_PREFIX):
        return keys_dir / f"{source.removeprefix(SERVICE_SOURCE_PREFIX)}.pem"
    return keys_dir / "sources" / f"{source.strip('/').replace('/', '_')}.pem"


def ensure_source_keys(
    keys_dir: Path, registry: Path, sources: Sequence[str], valid_from: datetime
) -> dict[str, Signer]:
    """One registered key per source, made where missing: for the demo's and the tests' publishers."""
    return {s: ensure_key(key_file(keys_dir, s), registry, [s], valid_from) for s in sources}


def ensure_service_key(keys_dir: Path, registry: Path, service: str, valid_from: datetime) -> Signer:
    source = service_source(service)
    return ensure_key(key_file(keys_dir, source), registry, [source], valid_from)


class SigningKeyMissing(RuntimeError):
    """The service has no key to sign its events with; the message says how to make one."""


def load_signer(settings: RuntimeSettings) -> Signer:
    path = settings.signing_key_path
    if not path.is_file():
        raise SigningKeyMissing(
            f"{settings.service_name}: no signing key at {path}; create and register one with "
            f"`lhl keys generate --service {settings.service_name}` (lhl run does this by itself)"
        )
    return Signer.from_file(path)
