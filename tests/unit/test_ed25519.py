"""Signatures through libsodium are the signatures OpenSSL makes, libsodium accepts nothing OpenSSL refuses, and the
key registry refuses a key under which a signature can be forged."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import ed25519
from contracts.keys import RegisteredKey, key_id, raw_public

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = raw_public(KEY.public_key())
SECRET = ed25519.secret_of(KEY)


def openssl_verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=4096))
def test_libsodium_signs_as_openssl_does_and_both_accept_the_signature(message: bytes) -> None:
    signature = ed25519.sign(SECRET, message)
    assert signature == KEY.sign(message)
    assert ed25519.verifies(PUBLIC, signature, message)


@settings(max_examples=300, deadline=None)
@given(message=st.binary(min_size=1, max_size=512), data=st.data())
def test_an_altered_signature_or_message_is_refused_by_both(message: bytes, data: st.DataObject) -> None:
    signature = bytearray(ed25519.sign(SECRET, message))
    altered_message = bytearray(message)
    if data.draw(st.booleans(), label="alter the signature"):
        signature[data.draw(st.integers(0, 63), label="byte")] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    else:
        altered_message[data.draw(st.integers(0, len(message) - 1), label="byte")] ^= data.draw(st.integers(1, 255))
    args = (PUBLIC, bytes(signature), bytes(altered_message))
    assert ed25519.verifies(*args) is False
    assert openssl_verifies(*args) is False


def test_a_signature_of_the_wrong_length_does_not_borrow_bytes_of_the_message() -> None:
    # libsodium reads signature and message as one string: 63 bytes of signature followed by a message that starts
    # with the 64th would be the valid signature, were the length not checked first.
    message = b"meeting.held"
    signature = ed25519.sign(SECRET, message)
    assert not ed25519.verifies(PUBLIC, signature[:63], signature[63:] + message)
    assert not ed25519.verifies(PUBLIC, signature + b"\x00", message)
    assert not ed25519.verifies(PUBLIC[:31], signature, message)


def test_a_small_order_key_verifies_nothing_though_openssl_would_accept_any_message_under_it() -> None:
    # The identity point as public key, with R the identity and S zero: the verification equation holds for every
    # message, so whoever registered such a key would let anybody sign in its name.
    identity = b"\x01" + bytes(31)
    forged = identity + bytes(32)
    for message in (b"a meeting that never took place", b"another"):
        assert openssl_verifies(identity, forged, message)
        assert not ed25519.verifies(identity, forged, message)


def registered(public: bytes) -> RegisteredKey:
    return RegisteredKey(
        key_id=key_id(Ed25519PublicKey.from_public_bytes(public)),
        sources=("/statsforvalteren/vestland/moter",),
        public_key=base64.b64encode(public).decode(),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_the_registry_refuses_a_small_order_key_and_says_why() -> None:
    with pytest.raises(ValidationError, match=r"prime-order group.*forged for any message"):
        registered(b"\x01" + bytes(31))


def test_the_registry_takes_a_generated_key() -> None:
    for seed in range(20):
        public = raw_public(Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32).public_key())
        assert registered(public).public_key == base64.b64encode(public).decode()  # accepted, not refused
