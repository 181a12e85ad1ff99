"""Registered public keys: which key may sign for which CloudEvents sources, and when.

Two files hold them, in the same format: the committed `reference_data/keys.json` (public keys that
organisations hand over; never a private key) and the installation's registry in the git-ignored state folder
(`.local/keys/registry.json`, written by `lhl keys generate`), which holds the keys made on this machine.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contracts import ed25519
from contracts.envelope import isoformat

FORMAT: Final = "lhl-key-registry/1"
COMMITTED: Final = Path(__file__).parent / "reference_data" / "keys.json"


def key_id(key: Ed25519PublicKey) -> str:
    """The DSSE keyid: the first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class RegisteredKey(BaseModel):
    """One Ed25519 public key, the sources it signs for and its validity (rotation sets `valid_to`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key; the DSSE keyid.")
    sources: tuple[str, ...] = Field(min_length=1, description="CloudEvents sources the key may sign for.")
    public_key: str = Field(description="Base64 of the 32 raw bytes of the Ed25519 public key.")
    valid_from: AwareDatetime = Field(description="First instant the key's signatures are accepted.")
    valid_to: AwareDatetime | None = Field(default=None, description="Instant from which they are refused.")

    @model_validator(mode="after")
    def _id_names_the_key(self) -> RegisteredKey:
        public = self.verify_key()
        if not ed25519.is_public_key(raw_public(public)):
            raise ValueError(
                f"key {self.key_id}: the public key is not a point of Ed25519's prime-order group (a small-order or "
                "non-canonical encoding), which no generated key is; a signature under it could be forged for any "
                "message, so it is refused"
            )
        if key_id(public) != self.key_id:
            raise ValueError(f"key_id {self.key_id} is not the id of its public key")
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(f"key {self.key_id}: valid_to is not after valid_from")
        return self

    def verify_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key, validate=True))

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)

    def describe_validity(self) -> str:
        end = f"until {isoformat(self.valid_to)}" if self.valid_to else "with no end"
        return f"valid from {isoformat(self.valid_from)} {end}"


class KeyRegistry:
    """The keys a verifier trusts, by key id."""

    def __init__(self, keys: Iterable[RegisteredKey]) -> None:
        self.keys: tuple[RegisteredKey, ...] = tuple(keys)
        self._by_id = {k.key_id: k for k in self.keys}
        self._public = {k.key_id: raw_public(k.verify_key()) for k in self.keys}

    def get(self, key_id: str) -> tuple[RegisteredKey, bytes] | None:
        """The key and its raw public bytes, which `contracts.ed25519` verifies with."""
        found = self._by_id.get(key_id)
        return (found, self._public[key_id]) if found is not None else None

    def for_source(self, source: str) -> list[RegisteredKey]:
        return [k for k in self.keys if source in k.sources]

    @functools.cached_property
    def shared(self) -> bytes:
        """The keys as JSON, for a service's check processes (`runtime.check_child`): `from_shared` reads them back."""
        return json.dumps([k.model_dump(mode="json") for k in self.keys], separators=(",", ":")).encode()

    @functools.cached_property
    def digest(self) -> bytes:
        """SHA-256 of `shared`: which registry a check process holds."""
        return hashlib.sha256(self.shared).digest()

    @classmethod
    def from_shared(cls, shared: bytes) -> KeyRegistry:
        """The registry `shared` wrote, each key validated again."""
        return cls(RegisteredKey.model_validate(k) for k in json.loads(shared))

    @classmethod
    def load(cls, files: Sequence[Path]) -> KeyRegistry:
        """Every key in the files that exist; a later file may not redefine a key id of an earlier one."""
        keys: dict[str, RegisteredKey] = {}
        for file in files:
            for key in read(file):
                if key.key_id in keys and keys[key.key_id] != key:
                    raise ValueError(f"{file}: key {key.key_id} is registered differently in an earlier file")
                keys[key.key_id] = key
        return cls(keys.values())


def read(file: Path) -> list[RegisteredKey]:
    if not file.is_file():
        return []
    document = json.loads(file.read_text(encoding="utf-8"))
    if document.get("format") != FORMAT:
        raise ValueError(f"{file}: not a key registry (format {document.get('format')!r}, expected {FORMAT})")
    return [RegisteredKey.model_validate(k) for k in document["keys"]]


def write(file: Path, keys: Iterable[RegisteredKey]) -> None:
    """Replace the registry atomically, so a service reloading it never sees half a file."""
    document = {"format": FORMAT, "keys": [k.model_dump(mode="json") for k in keys]}
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(file)
