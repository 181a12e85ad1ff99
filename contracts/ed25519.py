"""Ed25519 signatures on the hot paths, through libsodium (PyNaCl's bindings).

Keys are generated, stored and loaded with `cryptography`, as everywhere else; what every event pays, its signature
and its verification, goes through libsodium, which on this project's machine signs in 30-42 µs and verifies in
66-88, where OpenSSL through `cryptography` takes 40-55 and 126-156 (`make bench-signing` prints both). Both
release the GIL, so a batch's signatures can be made in worker threads (runtime.parallel).

libsodium accepts a subset of what OpenSSL accepts, never more: both refuse an S not below the group order and
compare the encoding of R, and libsodium also refuses non-canonical and small-order encodings of R and of the public
key, which no honest signer makes. A unit test checks the two agree on valid and altered signatures, and the key
registry refuses a key no secret could have made (`is_public_key`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

SIGNATURE_BYTES: Final = 64
PUBLIC_KEY_BYTES: Final = 32
SECRET_KEY_BYTES: Final = 64
"""libsodium's secret key: the seed, then the public key (`secret_of`)."""


def secret_of(key: Ed25519PrivateKey) -> bytes:
    """libsodium's 64-byte secret key (seed and public key) for a private key: made once per key, for it costs a
    scalar multiplication."""
    return bytes(crypto_sign_seed_keypair(key.private_bytes_raw())[1])


def sign(secret: bytes, message: bytes) -> bytes:
    """The detached signature: libsodium's signed message is the signature followed by the message."""
    return bytes(crypto_sign(message, secret)[:SIGNATURE_BYTES])


Check = Callable[[bytes, bytes, bytes], bool]
"""What answers whether a signature verifies: (public key, signature, message) -> bool; `verifies`, or
the one `runtime.parallel.read_checking_later` gives, which answers yes now and checks later in threads."""


def verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is the key's signature over `message`. Its length is checked here: libsodium takes the
    signature and the message as one string, so a short signature would borrow the message's first bytes."""
    if len(signature) != SIGNATURE_BYTES or len(public) != PUBLIC_KEY_BYTES:
        return False
    try:
        crypto_sign_open(signature + message, public)
    except BadSignatureError:
        return False
    return True


def is_public_key(public: bytes) -> bool:
    """Whether the 32 bytes are a canonical encoding of a point of the prime-order group, as every key generated
    from a secret is: the key registry refuses any other (`contracts.keys`), since with a small-order key OpenSSL
    verifies a signature forged for any message, and libsodium verifies nothing."""
    return len(public) == PUBLIC_KEY_BYTES and bool(crypto_core_ed25519_is_valid_point(public))
