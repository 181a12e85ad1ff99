"""Just enough of the Kafka protocol, in the standard library, for the launcher: SASL/SCRAM-SHA-512 login, a
readiness probe and the ACL requests (the launcher runs before the virtual environment with aiokafka exists)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass

CLIENT_ID = b"lhl-stack"
SCRAM_MECHANISM = "SCRAM-SHA-512"

API_METADATA = 3
API_SASL_HANDSHAKE = 17
API_VERSIONS = 18
API_DESCRIBE_ACLS = 29
API_CREATE_ACLS = 30
API_DELETE_ACLS = 31
API_SASL_AUTHENTICATE = 36
API_ALTER_USER_SCRAM_CREDENTIALS = 51
SCRAM_SHA_512 = 2
SCRAM_ITERATIONS = 4096


class KafkaError(RuntimeError):
    """The broker answered with an error code, or not the way the protocol says."""


def i8(value: int) -> bytes:
    return struct.pack(">b", value)


def i16(value: int) -> bytes:
    return struct.pack(">h", value)


def i32(value: int) -> bytes:
    return struct.pack(">i", value)


def string(value: str | None) -> bytes:
    if value is None:
        return i16(-1)
    raw = value.encode()
    return i16(len(raw)) + raw


def sized_bytes(value: bytes) -> bytes:
    return i32(len(value)) + value


def uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def compact_bytes(value: bytes) -> bytes:
    return uvarint(len(value) + 1) + value


def compact_string(value: str) -> bytes:
    return compact_bytes(value.encode())


NO_TAGS = uvarint(0)


class Reader:
    """Reads a non-flexible response body field by field."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def i8(self) -> int:
        return self._unpack(">b")

    def i16(self) -> int:
        return self._unpack(">h")

    def i32(self) -> int:
        return self._unpack(">i")

    def i64(self) -> int:
        return self._unpack(">q")

    def string(self) -> str | None:
        size = self.i16()
        if size < 0:
            return None
        value = self.data[self.at : self.at + size].decode()
        self.at += size
        return value

    def sized_bytes(self) -> bytes:
        size = self.i32()
        value = self.data[self.at : self.at + max(size, 0)]
        self.at += max(size, 0)
        return value

    def array(self) -> Iterator[int]:
        return iter(range(max(self.i32(), 0)))

    def uvarint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def compact_string(self) -> str | None:
        size = self.uvarint() - 1
        if size < 0:
            return None
        value = self.data[self.at : self.at + size].decode()
        self.at += size
        return value

    def compact_array(self) -> Iterator[int]:
        return iter(range(max(self.uvarint() - 1, 0)))

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.at += self.uvarint()


@dataclass(frozen=True)
class Login:
    """Who the launcher connects as, and how (a CA file means TLS)."""

    username: str
    password: str
    cafile: str | None = None


def escape_scram_name(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _h(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha512).digest()


class Connection:
    """One blocking connection to the broker, authenticated with SCRAM-SHA-512 before any other request."""

    def __init__(self, host: str, port: int, login: Login, timeout: float = 5.0) -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.settimeout(timeout)
        if login.cafile is not None:
            context = ssl.create_default_context(cafile=login.cafile)
            self.sock: socket.socket = context.wrap_socket(raw, server_hostname=host)
        else:
            self.sock = raw
        self._correlation = 0
        self._authenticate(login)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _recv_exact(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self.sock.recv(size - len(chunks))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            chunks.extend(chunk)
        return bytes(chunks)

    def request(self, api_key: int, api_version: int, body: bytes) -> Reader:
        """Send one request with a v1 (non-flexible) header; return a reader past the response's correlation id."""
        self._correlation += 1
        header = struct.pack(">hhih", api_key, api_version, self._correlation, len(CLIENT_ID)) + CLIENT_ID
        payload = header + body
        self.sock.sendall(i32(len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        reader = Reader(self._recv_exact(size))
        if reader.i32() != self._correlation:
            raise KafkaError("the broker answered another request than the one sent")
        return reader

    def flexible_request(self, api_key: int, api_version: int, body: bytes) -> Reader:
        """The same with a v2 header (tagged fields), for APIs that only have flexible versions."""
        self._correlation += 1
        header = struct.pack(">hhih", api_key, api_version, self._correlation, len(CLIENT_ID)) + CLIENT_ID + NO_TAGS
        payload = header + body
        self.sock.sendall(i32(len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        reader = Reader(self._recv_exact(size))
        if reader.i32() != self._correlation:
            raise KafkaError("the broker answered another request than the one sent")
        reader.skip_tags()
        return reader

    def set_scram_password(self, user: str, password: str) -> None:
        """Create or replace a user's SCRAM-SHA-512 credential (AlterUserScramCredentials v0; needs ALTER on the
        cluster). The broker stores only the salted password, as format's --add-scram does."""
        salt = os.urandom(32)
        salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
        upsertion = (
            compact_string(user)
            + i8(SCRAM_SHA_512)
            + i32(SCRAM_ITERATIONS)
            + compact_bytes(salt)
            + compact_bytes(salted)
            + NO_TAGS
        )
        body = uvarint(1) + uvarint(2) + upsertion + NO_TAGS  # no deletions, one upsertion
        reply = self.flexible_request(API_ALTER_USER_SCRAM_CREDENTIALS, 0, body)
        reply.i32()
        for _ in reply.compact_array():
            name, code, message = reply.compact_string(), reply.i16(), reply.compact_string()
            reply.skip_tags()
            if code != 0:
                raise KafkaError(f"AlterUserScramCredentials refused for {name} (error {code}): {message}")

    def _authenticate(self, login: Login) -> None:
        handshake = self.request(API_SASL_HANDSHAKE, 1, string(SCRAM_MECHANISM))
        code = handshake.i16()
        if code != 0:
            offered = [handshake.string() for _ in handshake.array()]
            raise KafkaError(f"the broker does not offer {SCRAM_MECHANISM} (error {code}; offers {offered})")
        nonce = base64.b64encode(os.urandom(24)).decode()
        first_bare = f"n={escape_scram_name(login.username)},r={nonce}"
        server_first = self._sasl_step(f"n,,{first_bare}".encode()).decode()
        fields = dict(part.split("=", 1) for part in server_first.split(","))
        if not fields.get("r", "").startswith(nonce):
            raise KafkaError("SCRAM: the broker's nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha512", login.password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        without_proof = f"c=biws,r={fields['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        client_key = _h(salted, b"Client Key")
        signature = _h(hashlib.sha512(client_key).digest(), auth_message)
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True))).decode()
        server_final = self._sasl_step(f"{without_proof},p={proof}".encode()).decode()
        expected = base64.b64encode(_h(_h(salted, b"Server Key"), auth_message)).decode()
        # Mutual authentication: a listener that does not know our password cannot forge its signature.
        if not hmac.compare_digest(server_final, f"v={expected}"):
            raise KafkaError("SCRAM: the broker's signature is wrong")

    def _sasl_step(self, message: bytes) -> bytes:
        reply = self.request(API_SASL_AUTHENTICATE, 1, sized_bytes(message))
        code, text = reply.i16(), reply.string()
        if code != 0:
            raise KafkaError(f"SASL authentication failed (error {code}): {text}")
        return reply.sized_bytes()

    def api_versions(self) -> dict[int, tuple[int, int]]:
        reply = self.request(API_VERSIONS, 0, b"")
        code = reply.i16()
        if code != 0:
            raise KafkaError(f"ApiVersions failed (error {code})")
        versions = {}
        for _ in reply.array():
            key, low, high = reply.i16(), reply.i16(), reply.i16()
            versions[key] = (low, high)
        return versions

    def broker_count(self) -> int:
        """How many unfenced brokers the metadata names (Metadata v4, the oldest Kafka 4 still serves)."""
        reply = self.request(API_METADATA, 4, i32(0) + i8(0))
        reply.i32()  # throttle time
        return reply.i32()
