"""The child side of `runtime.check_processes`: a process that answers whether Ed25519 signatures verify, and signs
derived events.

The frames, both ways: a 4-byte big-endian length, then the body; a request's body starts with its kind, one byte.
Checks (`C`): the item count (4 bytes), then each item's check count (4 bytes) and each check as three lengths (2, 2
and 4 bytes) and the public key, signature and message; the answer's body is one byte per item, 1 when all its checks
verify. Signatures (`S`): the signer's 64-byte secret key, its key id's length (2 bytes) and key id, the item count
(4 bytes), then each item as a length (4 bytes) and an unsigned event's exact bytes; the answer's body is each
signed event as a length (4 bytes) and its bytes, or an empty one for an event the child could not sign. Records
(`V`): the moment to verify at (2-byte length, ISO 8601 text), the key registry's SHA-256 (32 bytes), the registry
(`KeyRegistry.shared`; 4-byte length, empty when this child was sent it already), the record count (4 bytes), then
each record's key and value (4-byte length, 0xFFFFFFFF for none, and the bytes), its header count (4 bytes) and
each header's name and value (framed alike); the answer's body is one byte per record, 1 when it verifies as
`contracts.signing.verify` judges it. The child greets with an empty answer once it is ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import struct
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from contracts import ed25519
from contracts.keys import KeyRegistry
from contracts.signed_bytes import value_signing
from contracts.signing import read, verify

Checks = list[tuple[bytes, bytes, bytes]]
"""An item's signature checks: (public key, signature, message) each."""

LENGTH: Final = struct.Struct(">I")
_COUNT: Final = struct.Struct(">I")
_CHECK: Final = struct.Struct(">HHI")
_KEY_ID: Final = struct.Struct(">H")
PIPE_BYTES: Final = 1 << 20
CHECKS: Final = b"C"
SIGNATURES: Final = b"S"
RECORDS: Final = b"V"
_ABSENT: Final = 0xFFFFFFFF
_DIGEST_BYTES: Final = 32
Record = tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes | None]]]
"""A record as its verification reads it: its key, value and headers."""
_held: dict[bytes, KeyRegistry] = {}
"""The child's key registry, by its digest: the last one its parent sent."""


def request(items: list[Checks]) -> bytes:
    """The frame that asks for these items' checks."""
    parts = [CHECKS, LENGTH.pack(len(items))]
    for checks in items:
        parts.append(_COUNT.pack(len(checks)))
        for public, signature, message in checks:
            if len(public) != ed25519.PUBLIC_KEY_BYTES or len(signature) != ed25519.SIGNATURE_BYTES:
                public = signature = message = b""  # cannot verify (`ed25519.verifies`), and may not fit the frame
            parts += (_CHECK.pack(len(public), len(signature), len(message)), public, signature, message)
    return _framed(parts)


def _framed(parts: list[bytes]) -> bytes:
    """A request's body, its parts joined, after its length."""
    body = b"".join(parts)
    return LENGTH.pack(len(body)) + body


def verified(body: bytes, count: int) -> list[bool] | None:
    """A checks answer's flags, or None when the body does not answer `count` items."""
    return [flag == 1 for flag in body] if len(body) == count else None


def signing_request(secret: bytes, key_id: str, values: list[bytes]) -> bytes:
    """The frame that asks for these unsigned events' signed bytes, by the key of this secret and key id."""
    if len(secret) != ed25519.SECRET_KEY_BYTES:
        raise ValueError(f"a secret key is {ed25519.SECRET_KEY_BYTES} bytes, not {len(secret)}")
    named = key_id.encode()
    parts = [SIGNATURES, secret, _KEY_ID.pack(len(named)), named, _COUNT.pack(len(values))]
    for value in values:
        parts += (LENGTH.pack(len(value)), value)
    return _framed(parts)


def signed(body: bytes, count: int) -> list[bytes] | None:
    """A signatures answer's events (empty where the child could not sign), or None when the body does not answer
    `count` items."""
    found, at = [], 0
    while at + LENGTH.size <= len(body):
        (size,) = LENGTH.unpack_from(body, at)
        found.append(body[at + LENGTH.size : at + LENGTH.size + size])
        at += LENGTH.size + size
    return found if at == len(body) and len(found) == count else None


def records_request(at: datetime, registry: KeyRegistry, send_registry: bool, records: Sequence[Record]) -> bytes:
    """The frame that asks whether these records verify at `at` against `registry`, which goes along unless the child
    holds it already."""
    moment, shared = at.isoformat().encode(), registry.shared if send_registry else b""
    parts = [RECORDS, _KEY_ID.pack(len(moment)), moment, registry.digest, LENGTH.pack(len(shared)), shared]
    parts.append(_COUNT.pack(len(records)))
    for key, value, headers in records:
        _put(parts, key)
        _put(parts, value)
        parts.append(_COUNT.pack(len(headers)))
        for name, raw in headers:
            # Any str comes back exactly, escaped bytes too (runtime.header_names), whatever a subclass's encode does.
            _put(parts, str.encode(name, "utf-8", "surrogatepass"))
            _put(parts, raw)
    return _framed(parts)


def _put(parts: list[bytes], field: bytes | None) -> None:
    parts += (LENGTH.pack(_ABSENT),) if field is None else (LENGTH.pack(len(field)), field)


def answer(body: bytes) -> bytes:
    """What a child answers to a request's body."""
    return {SIGNATURES: _signatures, RECORDS: _records}.get(body[:1], _checks)(body[1:])


def _signatures(body: bytes) -> bytes:
    secret, at = body[: ed25519.SECRET_KEY_BYTES], ed25519.SECRET_KEY_BYTES
    (size,) = _KEY_ID.unpack_from(body, at)
    key_id, at = body[at + _KEY_ID.size : at + _KEY_ID.size + size].decode(), at + _KEY_ID.size + size
    (count,) = _COUNT.unpack_from(body, at)
    at += _COUNT.size
    parts: list[bytes] = []
    for _ in range(count):
        (size,) = LENGTH.unpack_from(body, at)
        value, at = body[at + LENGTH.size : at + LENGTH.size + size], at + LENGTH.size + size
        try:
            prepared = value_signing(value, key_id)
            made = prepared.signed(ed25519.sign(secret, prepared.to_sign.message))
        except Exception:  # the parent signs it itself, and meets the same error there
            made = b""
        parts += (LENGTH.pack(len(made)), made)
    return b"".join(parts)


def _checks(body: bytes) -> bytes:
    view = memoryview(body)
    (count,) = LENGTH.unpack_from(view, 0)
    at = LENGTH.size
    verified = bytearray(count)
    for n in range(count):
        (checks,) = _COUNT.unpack_from(view, at)
        at += _COUNT.size
        ok = True
        for _ in range(checks):
            public_length, signature_length, message_length = _CHECK.unpack_from(view, at)
            at += _CHECK.size
            public = bytes(view[at : at + public_length])
            signature = bytes(view[at + public_length : at + public_length + signature_length])
            at += public_length + signature_length
            message = bytes(view[at : at + message_length])
            at += message_length
            ok = ok and ed25519.verifies(public, signature, message)  # a failed check ends the item's
        verified[n] = ok
    return bytes(verified)


def _records(body: bytes) -> bytes:
    (size,) = _KEY_ID.unpack_from(body, 0)
    at, position = datetime.fromisoformat(body[_KEY_ID.size : _KEY_ID.size + size].decode()), _KEY_ID.size + size
    digest, position = body[position : position + _DIGEST_BYTES], position + _DIGEST_BYTES
    shared, position = _take(body, position)
    (count,) = _COUNT.unpack_from(body, position)
    position += _COUNT.size
    registry = _registry(digest, shared)
    if registry is None:  # its parent verifies them itself
        return bytes(count)
    verified = bytearray(count)
    for n in range(count):
        key, position = _take(body, position)
        value, position = _take(body, position)
        (headers,) = _COUNT.unpack_from(body, position)
        position += _COUNT.size
        found: list[tuple[bytes | None, bytes | None]] = []
        for _ in range(headers):
            name, position = _take(body, position)
            raw, position = _take(body, position)
            found.append((name, raw))
        try:  # as runtime.verification.EventVerifier.check reads and verifies a record
            named = [((name or b"").decode("utf-8", "surrogatepass"), raw) for name, raw in found]
            verify(read(value or b"", named, key), registry, at)
            verified[n] = 1
        except Exception:  # unauthenticated, or anything else: its parent verifies it again and says why
            verified[n] = 0
    return bytes(verified)


def _take(body: bytes, position: int) -> tuple[bytes | None, int]:
    (size,) = LENGTH.unpack_from(body, position)
    position += LENGTH.size
    if size == _ABSENT:
        return None, position
    return body[position : position + size], position + size


def _registry(digest: bytes, shared: bytes | None) -> KeyRegistry | None:
    """The registry of this digest: the one sent now (if it is what the digest says), or the one held."""
    if shared:
        _held.clear()
        try:
            if hashlib.sha256(shared).digest() == digest:
                _held[digest] = KeyRegistry.from_shared(shared)
        except ValueError:  # not JSON, or a key that is not one: none held, so its parent verifies
            pass
    return _held.get(digest)


def main() -> None:
    """A child: answers requests on its input until the input ends. The service's stop ends it, not Ctrl-C or a
    SIGTERM sent to the whole process group (or cgroup) at the same time as to the service, which would only make
    the service check its last batches in threads and warn. Its output is the answers alone: anything else printed
    goes to stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for pipe in (requests, answers):
        _widen(pipe.fileno())
    answers.write(LENGTH.pack(0))  # ready: an answer to nothing
    answers.flush()
    while len(head := requests.read(LENGTH.size)) == LENGTH.size:
        (size,) = LENGTH.unpack(head)
        body = requests.read(size)
        if len(body) < size:
            return
        verified = answer(body)
        answers.write(LENGTH.pack(len(verified)) + verified)
        answers.flush()


def _widen(pipe: int) -> None:
    """Let the pipe hold a few chunks: a chunk of signed events (about 77 kB) is more than a pipe's 64 kB, and a child
    blocked writing its answer until the parent's loop next reads reads no new request meanwhile. Linux only, and
    only up to the system's limit (`/proc/sys/fs/pipe-max-size`); elsewhere the pipe stays as it is."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


if __name__ == "__main__":
    main()
