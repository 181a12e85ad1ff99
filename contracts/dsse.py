"""The CloudEvents verifiability extension (DSSE v1.0.2), byte for byte as cloudevents/extensions/verifiability.md.

The `dssematerial` attribute is Base64 of a DSSE JSON envelope whose payload, the verification material, holds two
SHA-256 digests: `core` over the core attributes and the data's exact bytes, `ext` over the signed extension
attributes named in `signedextattrs`. The signature is Ed25519 over DSSE's pre-authentication encoding (PAE).
This module knows the protocol only; who may sign what is `contracts.signing`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import ed25519

PAYLOAD_TYPE: Final = "https://cloudevents.io/verifiability/dsse/v0.1"
ATTRIBUTE: Final = "dssematerial"
CORE_ATTRIBUTES: Final = ("id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject", "time")
"""In the order the core digest takes them; `data` comes last."""
_EMPTY: Final = hashlib.sha256(b"").digest()


class MaterialError(ValueError):
    """The verification material is missing, corrupted or violates the extension's constraints."""


@dataclass(frozen=True)
class Material:
    """The decoded, not yet trusted, content of `dssematerial`."""

    payload: bytes
    """The exact serialized verification material that was signed."""
    core: bytes
    ext: bytes | None
    signed_extensions: tuple[str, ...]
    signatures: tuple[tuple[str, bytes], ...]
    """(keyid, signature) pairs, in the envelope's order."""


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the signature is really over."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


@functools.lru_cache(maxsize=4096)
def timestamp(value: str | datetime) -> str:
    """RFC 3339 in UTC to the second, as the extension hashes `time`; a value without offset is UTC.

    Cached: a batch's derived events share their `time`, and a publisher's events often do too."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(value: str | None) -> bytes:
    return _text_digest(value) if value is not None else _EMPTY


@functools.lru_cache(maxsize=1024)
def _text_digest(value: str) -> bytes:
    """Cached: of a batch's derived events only the id, the subject and the data differ, and their other eight
    attributes repeat (source, type, schema, time, correlation and causation ids, trace, partition key), as a
    publisher's do. A digest is a function of its text alone, so a value an attacker chooses only takes a place."""
    return hashlib.sha256(value.encode()).digest()


def core_digest(attributes: Mapping[str, str], data: bytes | None) -> bytes:
    """SHA-256 over the digests of the core attributes (absent ones as the empty string) and of the data bytes."""
    parts = []
    for name in CORE_ATTRIBUTES:
        value = attributes.get(name)
        parts.append(_digest(timestamp(value) if name == "time" and value is not None else value))
    parts.append(hashlib.sha256(data).digest() if data is not None else _EMPTY)
    return hashlib.sha256(b"".join(parts)).digest()


def ext_digest(attributes: Mapping[str, str], names: Sequence[str]) -> bytes:
    """SHA-256 over the digests of the named extension values, in the listed order (absent: the empty string)."""
    return hashlib.sha256(b"".join(_digest(attributes.get(name)) for name in names)).digest()


def check_extension_names(names: Sequence[str]) -> None:
    if len(set(names)) != len(names):
        raise MaterialError(f"signedextattrs repeats a name: {list(names)}")
    forbidden = sorted({*CORE_ATTRIBUTES, ATTRIBUTE} & set(names))
    if forbidden:
        raise MaterialError(f"signedextattrs names {', '.join(forbidden)}, which must never be listed there")


@dataclass(frozen=True)
class ToSign:
    """The verification material of an event before its signature: what is signed, and the `dssematerial` value
    once the signature is made. Signing in two steps lets a batch make only its signatures in worker threads."""

    body: bytes
    """The DSSE payload: the serialized verification material."""
    key_id: str

    @property
    def message(self) -> bytes:
        """What the signature is over: DSSE's pre-authentication encoding of the payload."""
        return pae(PAYLOAD_TYPE, self.body)

    def material(self, signature: bytes) -> str:
        """The `dssematerial` value (Base64 of the DSSE JSON envelope) with this signature over `message`."""
        envelope = (
            b'{"payload":"'
            + _b64(self.body).encode()
            + b'","payloadType":'
            + _json(PAYLOAD_TYPE)
            + b',"signatures":[{"keyid":'
            + _json(self.key_id)
            + b',"sig":"'
            + _b64(signature).encode()
            + b'"}]}'
        )
        return _b64(envelope)


def to_sign(attributes: Mapping[str, str], data: bytes | None, extensions: Sequence[str], key_id: str) -> ToSign:
    """The material to sign for an event with these attributes and data.

    Both JSON documents are written as `json.dumps(..., separators=(",", ":"))` writes them (a unit test compares
    the two): every value but the names is Base64, which needs no escaping, and the names are encoded by `json`."""
    names = _checked_names(tuple(extensions))
    body = b'{"core":"' + _b64(core_digest(attributes, data)).encode() + b'"'
    if names:
        body += b',"ext":"' + _b64(ext_digest(attributes, names)).encode() + b'","signedextattrs":' + _json(names)
    return ToSign(body + b"}", key_id)


def sign(
    attributes: Mapping[str, str], data: bytes | None, extensions: Sequence[str], key: Ed25519PrivateKey, key_id: str
) -> str:
    """The `dssematerial` value (Base64 of the DSSE JSON envelope) for an event with these attributes and data."""
    prepared = to_sign(attributes, data, extensions, key_id)
    return prepared.material(key.sign(prepared.message))


@functools.lru_cache(maxsize=256)
def _checked_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """A signer's own extension names, checked once: only signing remembers them, never the names of a record
    being verified, which an attacker chooses."""
    check_extension_names(names)
    return names


@functools.lru_cache(maxsize=256)
def _json(value: str | tuple[str, ...]) -> bytes:
    """A key id, the payload type or a tuple of names as compact JSON (a tuple as an array)."""
    return json.dumps(list(value) if isinstance(value, tuple) else value, separators=(",", ":")).encode()


def open_material(value: str) -> Material:
    """Steps 2 to 6 of the extension's verification protocol: decode and check the shape, trusting nothing yet."""
    try:
        envelope = json.loads(_unb64(value, "dssematerial").decode("utf-8"))
    except UnicodeDecodeError as error:
        raise MaterialError("dssematerial is not UTF-8") from error
    except json.JSONDecodeError as error:
        raise MaterialError(f"dssematerial is not a DSSE JSON envelope: {error}") from error
    if not isinstance(envelope, dict):
        raise MaterialError("dssematerial is not a DSSE JSON envelope (not an object)")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise MaterialError(f"dssematerial's payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}")
    payload = _unb64(envelope.get("payload"), "the DSSE payload")
    try:
        material = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MaterialError(f"the DSSE payload is not JSON: {error}") from error
    if not isinstance(material, dict):
        raise MaterialError("the DSSE payload is not a JSON object")
    core = _digest_field(material, "core")
    if core is None:
        raise MaterialError("the verification material has no core digest")
    ext = _digest_field(material, "ext")
    names = material.get("signedextattrs")
    if (ext is None) != (names is None):
        raise MaterialError("the verification material must carry ext and signedextattrs together or neither")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise MaterialError("signedextattrs is not a list of attribute names")
    check_extension_names(names or [])
    return Material(payload, core, ext, tuple(names or ()), _signatures(envelope.get("signatures")))


def verifies(material: Material, public: bytes, signature: bytes, check: ed25519.Check = ed25519.verifies) -> bool:
    """Whether `signature` by the raw public key `public` covers the material's payload, as `check` answers."""
    return check(public, signature, pae(PAYLOAD_TYPE, material.payload))


def _signatures(value: object) -> tuple[tuple[str, bytes], ...]:
    if not isinstance(value, list) or not value:
        raise MaterialError("the DSSE envelope has no signatures")
    found = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("keyid"), str):
            raise MaterialError("a DSSE signature has no keyid")
        found.append((item["keyid"], _unb64(item.get("sig"), "a DSSE signature")))
    return tuple(found)


def _digest_field(material: dict[str, object], name: str) -> bytes | None:
    if name not in material:
        return None
    digest = _unb64(material[name], f"the {name} digest")
    if len(digest) != 32:
        raise MaterialError(f"the {name} digest is {len(digest)} bytes, not 32")
    return digest


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    """Standard or URL-safe Base64, padded or not: DSSE allows either."""
    if not isinstance(value, str):
        raise MaterialError(f"{what} is not a Base64 string")
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as error:
        raise MaterialError(f"{what} is not Base64: {error}") from error
