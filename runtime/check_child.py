"""The child side of `runtime.check_processes`: a process that answers whether Ed25519 signatures verify.

The frames, both ways: a 4-byte big-endian length, then the body. A request's body is the item count (4 bytes), then
each item's check count (4 bytes) and each check as three lengths (2, 2 and 4 bytes) and the public key, signature
and message. An answer's body is one byte per item, 1 when all its checks verify. The child greets with an empty
answer once it is ready.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
from typing import Final

from contracts import ed25519

Checks = list[tuple[bytes, bytes, bytes]]
"""An item's signature checks: (public key, signature, message) each."""

LENGTH: Final = struct.Struct(">I")
_COUNT: Final = struct.Struct(">I")
_CHECK: Final = struct.Struct(">HHI")


def request(items: list[Checks]) -> bytes:
    """The frame that asks for these items' checks."""
    parts = [LENGTH.pack(len(items))]
    for checks in items:
        parts.append(_COUNT.pack(len(checks)))
        for public, signature, message in checks:
            if len(public) != ed25519.PUBLIC_KEY_BYTES or len(signature) != ed25519.SIGNATURE_BYTES:
                public = signature = message = b""  # cannot verify (`ed25519.verifies`), and may not fit the frame
            parts += (_CHECK.pack(len(public), len(signature), len(message)), public, signature, message)
    body = b"".join(parts)
    return LENGTH.pack(len(body)) + body


def answer(body: bytes) -> bytes:
    """What a child answers to a request's body: one byte per item."""
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


if __name__ == "__main__":
    main()
