"""Signed checkpoints: written, read back with a valid signature, and refused when altered or signed by another key."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import checkpoints, keys

NOW = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
HEAD = "ab" * 32


def raw_base64(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def test_a_checkpoint_signed_with_a_generated_key_pair_verifies_with_the_public_pem(tmp_path: Path) -> None:
    signing, verifying = keys.generate(tmp_path / "keys")
    path = checkpoints.write(tmp_path / "cp", "audit", 42, HEAD, NOW, checkpoints.load_signing_key(str(signing)))
    [loaded] = checkpoints.load(tmp_path / "cp", "audit", checkpoints.load_verify_key(str(verifying)))
    assert loaded.problem is None
    assert loaded.path == path
    assert loaded.checkpoint is not None
    assert (loaded.checkpoint.record_count, loaded.checkpoint.head_hash) == (42, HEAD)
    assert loaded.checkpoint.created_at == "2026-11-22T12:30:00.000000Z"
    assert signing.stat().st_mode & 0o777 == 0o600


def test_keygen_refuses_to_overwrite_an_existing_key(tmp_path: Path) -> None:
    keys.generate(tmp_path)
    with pytest.raises(FileExistsError):
        keys.generate(tmp_path)


def test_a_key_given_as_base64_of_its_raw_bytes_signs_like_the_key_itself(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    checkpoints.write(tmp_path, "audit", 1, HEAD, NOW, checkpoints.load_signing_key(raw_base64(key)))
    [loaded] = checkpoints.load(tmp_path, "audit", key.public_key())
    assert loaded.problem is None


def test_a_checkpoint_whose_count_was_raised_no_longer_verifies(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = checkpoints.write(tmp_path, "audit", 10, HEAD, NOW, key)
    document = json.loads(path.read_text())
    document["checkpoint"]["record_count"] = 11
    path.write_text(json.dumps(document))
    [loaded] = checkpoints.load(tmp_path, "audit", key.public_key())
    assert loaded.checkpoint is None
    assert loaded.problem is not None
    assert "signature does not verify" in loaded.problem


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    checkpoints.write(tmp_path, "audit", 10, HEAD, NOW, Ed25519PrivateKey.generate())
    [loaded] = checkpoints.load(tmp_path, "audit", Ed25519PrivateKey.generate().public_key())
    assert loaded.problem is not None
    assert "signature does not verify" in loaded.problem


def test_checkpoints_of_another_log_in_the_same_folder_are_not_mixed_in(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    checkpoints.write(tmp_path, "audit", 3, HEAD, NOW, key)
    checkpoints.write(tmp_path, "audit_staging", 5, HEAD, NOW, key)
    assert [c.checkpoint.log for c in checkpoints.load(tmp_path, "audit", key.public_key()) if c.checkpoint] == [
        "audit"
    ]


def test_a_key_that_is_neither_a_file_nor_base64_is_refused_with_the_setting_named() -> None:
    with pytest.raises(checkpoints.KeyLoadError, match="audit_signing_key: neither an existing PEM file nor base64"):
        checkpoints.load_signing_key("/no/such/key.pem")
    with pytest.raises(checkpoints.KeyLoadError, match="32 raw bytes"):
        checkpoints.load_verify_key(base64.b64encode(b"short").decode())


def test_a_verify_key_under_which_any_checkpoint_could_be_forged_is_refused() -> None:
    identity = base64.b64encode(b"\x01" + bytes(31)).decode()  # a small-order point: S=0, R=identity verifies
    with pytest.raises(checkpoints.KeyLoadError, match="audit_verify_key: not a key any secret makes"):
        checkpoints.load_verify_key(identity)
