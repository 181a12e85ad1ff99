"""Signed checkpoints: record count and head hash at a moment, signed with Ed25519, kept outside the database."""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts import ed25519
from contracts.keys import key_id, raw_public
from services.audit.chain import canonical_json, utc_text

FORMAT: Final = "lhl-audit-checkpoint/1"


class KeyLoadError(ValueError):
    """A signing or verify key that cannot be loaded; the message says which setting and why."""


def _key_bytes(value: str, setting: str) -> tuple[bytes, bool]:
    """The key material and whether it is PEM: a path to a PEM file, or base64 of the raw 32 bytes."""
    path = Path(value).expanduser()
    if path.is_file():
        return path.read_bytes(), True
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise KeyLoadError(f"{setting}: neither an existing PEM file nor base64 ({error})") from error
    if len(raw) != 32:
        raise KeyLoadError(f"{setting}: base64 must decode to the 32 raw bytes of an Ed25519 key, got {len(raw)}")
    return raw, False


def load_signing_key(value: str, setting: str = "audit_signing_key") -> Ed25519PrivateKey:
    material, is_pem = _key_bytes(value, setting)
    if not is_pem:
        return Ed25519PrivateKey.from_private_bytes(material)
    key = serialization.load_pem_private_key(material, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyLoadError(f"{setting}: the PEM file holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_verify_key(value: str, setting: str = "audit_verify_key") -> Ed25519PublicKey:
    """The checkpoints' verify key. One of small order is refused: OpenSSL, which checks the checkpoints here,
    would take a signature forged for any checkpoint under it (contracts/ed25519.py)."""
    material, is_pem = _key_bytes(value, setting)
    key = Ed25519PublicKey.from_public_bytes(material) if not is_pem else serialization.load_pem_public_key(material)
    if not isinstance(key, Ed25519PublicKey):
        raise KeyLoadError(f"{setting}: the PEM file holds a {type(key).__name__}, not an Ed25519 public key")
    if not ed25519.is_public_key(raw_public(key)):
        raise KeyLoadError(f"{setting}: not a key any secret makes (a small-order or non-canonical point)")
    return key


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint asserts: the log named `log` held `record_count` records ending in `head_hash`."""

    log: str
    record_count: int
    head_hash: str
    created_at: str
    key_id: str

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "log": self.log,
            "record_count": self.record_count,
            "head_hash": self.head_hash,
            "created_at": self.created_at,
            "key_id": self.key_id,
        }


@dataclass(frozen=True)
class LoadedCheckpoint:
    path: Path
    checkpoint: Checkpoint | None
    problem: str | None
    """Why the file cannot be trusted (unreadable, wrong format, bad signature), or None."""


HEAD_SUFFIX: Final = "head"


def write(
    directory: Path,
    log: str,
    record_count: int,
    head_hash: str,
    now: datetime,
    key: Ed25519PrivateKey,
    *,
    head: bool = False,
) -> Path:
    """Sign and write one checkpoint; written to a temporary name first so a reader never sees half a file.

    With `head`, the file is the log's signed head, `<log>-head.json`, replaced after every recorded batch so that
    no record stays uncovered for longer than a batch; the numbered checkpoints are kept as its history.
    """
    checkpoint = Checkpoint(log, record_count, head_hash, utc_text(now) or "", key_id(key.public_key()))
    signature = key.sign(canonical_json(checkpoint.body()))
    document = {"checkpoint": checkpoint.body(), "signature": base64.b64encode(signature).decode("ascii")}
    directory.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{log}-{HEAD_SUFFIX}.json" if head else f"{log}-{record_count:012d}-{stamp}.json"
    path = directory / name
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def load(directory: Path, log: str, key: Ed25519PublicKey | None) -> list[LoadedCheckpoint]:
    """Every checkpoint file of this log in the folder, each with its signature checked."""
    found: list[LoadedCheckpoint] = []
    for path in sorted(directory.glob(f"{log}-*.json")) if directory.is_dir() else []:
        found.append(_load_one(path, log, key))
    return found


def _load_one(path: Path, log: str, key: Ed25519PublicKey | None) -> LoadedCheckpoint:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        body = document["checkpoint"]
        signature = base64.b64decode(document["signature"], validate=True)
        if body.get("format") != FORMAT:
            return LoadedCheckpoint(path, None, f"unknown format {body.get('format')!r}, expected {FORMAT}")
        checkpoint = Checkpoint(
            str(body["log"]),
            int(body["record_count"]),
            str(body["head_hash"]),
            str(body["created_at"]),
            str(body["key_id"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return LoadedCheckpoint(path, None, f"unreadable ({type(error).__name__}: {error})")
    if checkpoint.log != log:
        return LoadedCheckpoint(path, None, f"belongs to log {checkpoint.log!r}, not {log!r}")
    if key is None:
        return LoadedCheckpoint(path, None, "no verify key is configured, so its signature cannot be checked")
    try:
        key.verify(signature, canonical_json(checkpoint.body()))
    except InvalidSignature:
        return LoadedCheckpoint(path, None, f"its signature does not verify with key {key_id(key)}")
    if checkpoint.body() != body:
        return LoadedCheckpoint(path, None, "it carries fields outside the signed body")
    return LoadedCheckpoint(path, checkpoint, None)
