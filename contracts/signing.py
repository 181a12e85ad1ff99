"""Who may sign what: signing this system's events, and verifying a record against the registered keys.

An event verifies when its `dssematerial` carries a signature, by a key registered for the event's `source` and
valid at the moment of verification, over exactly the attributes and data bytes it arrived with. A derived
event's type names the service that produces it (`catalog`), and only that service's source, so only its key,
may publish it. Every extension attribute an event carries must be signed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import catalog, dsse, ed25519
from contracts.envelope import CloudEvent, isoformat
from contracts.keys import KeyRegistry, RegisteredKey, key_id
from contracts.reference import organisations
from contracts.signed_bytes import EXTENSIONS, NOT_EXTENSIONS, extensions_of, member, value_signing
from contracts.wire import Unreadable, WireView, structured_view, view_of

SERVICE_SOURCE_PREFIX: Final = "/lhl/"
GATEWAY: Final = "gateway"
"""The HTTP gateway (services/gateway) signs, with its own key, the events of the organisations it authenticated."""
AUTH_TYPE: Final = "authtype"
AUTH_ID: Final = "authid"
AUTH_CLAIMS: Final = "authclaims"
"""The CloudEvents authcontext extension: who caused the event. The gateway writes them from the verified bearer
token (`authclaims` is JSON with the token's issuer, subject, organisation number, `org` and token id), and signs
them with the rest; a gateway-signed event verifies only for a source of the organisation named in `org`."""


class Unauthenticated(ValueError):
    """The event does not verify; the message says why, in words a publisher understands."""


def read(value: bytes, headers: Iterable[tuple[str, bytes | None]] = (), key: bytes | None = None) -> WireView:
    """The record as its signature covers it (`contracts.wire`), or Unauthenticated if it cannot even be read so."""
    try:
        return view_of(value, headers, key)
    except Unreadable as error:
        raise Unauthenticated(f"the event cannot be verified: {error}") from error


def service_source(service: str) -> str:
    return f"{SERVICE_SOURCE_PREFIX}{service}"


@dataclass(frozen=True)
class Signer:
    """A private key and its id: what a publisher or service signs with."""

    key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def of(cls, key: Ed25519PrivateKey) -> Signer:
        return cls(key, key_id(key.public_key()))

    @functools.cached_property
    def secret(self) -> bytes:
        """libsodium's secret key for this key: what signs, here or in the service's own check processes."""
        return ed25519.secret_of(self.key)

    def sign(self, message: bytes) -> bytes:
        """This key's Ed25519 signature over `message`, through libsodium (`contracts.ed25519`)."""
        return ed25519.sign(self.secret, message)

    def material(self, view: WireView) -> str:
        """`dssematerial` for an event as `view` reads it: this key's signature over its attributes and data."""
        prepared = dsse.to_sign(view.attributes, view.data, extensions_of(view), self.key_id)
        return prepared.material(self.sign(prepared.message))

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: holds a {type(key).__name__}, not an Ed25519 private key")
        return cls.of(key)


@dataclass(frozen=True)
class Verified:
    key: RegisteredKey


def sign_event(event: CloudEvent, signer: Signer) -> CloudEvent:
    """The event with `dssematerial` over every core attribute, every extension and the data as it will be sent."""
    return signed_with_bytes(event, signer)[0]


@dataclass(frozen=True)
class EventSigning:
    """An event on its way to being signed: the message its signer signs, and from the signature the signed event
    and its exact bytes."""

    message: bytes
    finish: Callable[[bytes], tuple[CloudEvent, bytes]]
    value: Callable[[bytes], bytes]
    """The signed event's exact bytes alone: no model of the signed event made (the outbox needs none)."""


def signing(event: CloudEvent, key_id: str) -> EventSigning:
    """`signed_with_bytes` in two steps, for a batch that makes only its signatures in worker threads.

    `data` is the model's last field and every attribute before it is a JSON string, whose quotes inside are
    escaped, so the first `,"data":` of the serialization starts the data member: its bytes are what is signed,
    and `dssematerial`, the field just before `data`, goes in there. An event with extension attributes of other
    parties (written after `data`) takes the general path: serialize, then read as a consumer reads it."""
    unsigned = event.model_copy(update={"dssematerial": None}) if event.dssematerial is not None else event
    value = unsigned.to_bytes()
    if not signs_from_bytes(unsigned):
        view = structured_view(value)
        general = dsse.to_sign(view.attributes, view.data, extensions_of(view), key_id)

        def reserialized(signature: bytes) -> tuple[CloudEvent, bytes]:
            signed = unsigned.model_copy(update={"dssematerial": general.material(signature)})
            return signed, signed.to_bytes()

        return EventSigning(general.message, reserialized, lambda signature: reserialized(signature)[1])
    prepared = value_signing(value, key_id)

    def finished(signature: bytes) -> tuple[CloudEvent, bytes]:
        material = prepared.to_sign.material(signature)
        return unsigned.model_copy(update={"dssematerial": material}), prepared.inserted(material)

    return EventSigning(prepared.to_sign.message, finished, prepared.signed)


def signs_from_bytes(event: CloudEvent) -> bool:
    """Whether `value_signing` signs the event from its `to_bytes()` alone: it has no `dssematerial` yet and no
    extension attributes of other parties (`signing` says why those take the general path)."""
    return event.dssematerial is None and not event.model_extra


def signed_with_bytes(event: CloudEvent, signer: Signer) -> tuple[CloudEvent, bytes]:
    """The signed event and its exact bytes (what `to_bytes()` of it gives), from one serialization, not parsed
    back (`signing` says how)."""
    pending = signing(event, signer.key_id)
    return pending.finish(signer.sign(pending.message))


def sign_structured(value: bytes, signer: Signer) -> bytes:
    """A structured-mode event's exact bytes with `dssematerial` added as the last member, for events that are
    bytes already (a replayed script, a hand-written file) rather than a model to serialize."""
    return value.rstrip()[:-1] + member(signer.material(structured_view(value))) + b"}"


def sign_binary(value: bytes, headers: Mapping[str, bytes], key: bytes | None, signer: Signer) -> dict[str, bytes]:
    """A binary-mode record's headers with `ce_dssematerial` added, over the attributes as its headers carry them
    and the value's exact bytes."""
    material = signer.material(view_of(value, headers.items(), key))
    return {**headers, f"ce_{dsse.ATTRIBUTE}": material.encode()}


def owner(source: str) -> str:
    """Who a source belongs to, for messages: an organisation, a service of this system, or nobody."""
    if source.startswith(SERVICE_SOURCE_PREFIX):
        return f"the {source.removeprefix(SERVICE_SOURCE_PREFIX)} service"
    org = organisations().owner_of_source(source)
    return f"{org.id} ({org.name})" if org is not None else "no organisation"


def verify(view: WireView, registry: KeyRegistry, at: datetime, check: ed25519.Check = ed25519.verifies) -> Verified:
    """Check the event as it arrived; raise Unauthenticated naming the first reason it cannot be trusted. `check`
    answers whether a signature verifies (`ed25519.Check`)."""
    attributes = view.attributes
    source, event_type = attributes.get("source", ""), attributes.get("type", "")
    material_text = attributes.get(dsse.ATTRIBUTE)
    if not material_text:
        raise Unauthenticated(
            f"the event is not signed: it has no {dsse.ATTRIBUTE} attribute, and every event must be signed by a "
            f"key registered for its source {source!r}"
        )
    try:
        material = dsse.open_material(material_text)
    except dsse.MaterialError as error:
        raise Unauthenticated(f"its {dsse.ATTRIBUTE} cannot be used: {error}") from error
    kind = catalog.BY_NAME.get(event_type)
    if kind is not None and kind.producer != catalog.EXTERNAL and source != service_source(kind.producer):
        raise Unauthenticated(
            f"type {event_type} is published only by the {kind.producer} service (source "
            f"{service_source(kind.producer)}), but this event claims source {source!r}"
        )
    key = _key_for(material, registry, source, at, _vouched_by_gateway(attributes, kind), check)
    if dsse.core_digest(attributes, view.data) != material.core:
        raise Unauthenticated(
            f"a signed attribute or the data was changed after signing: the core digest (id, source, specversion, "
            f"type, datacontenttype, dataschema, subject, time, data) does not match the one key {key.key_id} signed"
        )
    present = [name for name in attributes if name not in NOT_EXTENSIONS]
    unsigned = [name for name in present if name not in material.signed_extensions]
    if unsigned:
        raise Unauthenticated(f"extension attribute(s) {', '.join(unsigned)} are not covered by the signature")
    if material.ext is not None and dsse.ext_digest(attributes, material.signed_extensions) != material.ext:
        raise Unauthenticated(
            f"a signed extension attribute ({', '.join(material.signed_extensions)}) was changed after signing"
        )
    empty = [name for name in (*dsse.CORE_ATTRIBUTES, *EXTENSIONS) if attributes.get(name) == ""]
    if empty:
        raise Unauthenticated(f"attribute(s) {', '.join(empty)} are empty, which a signature cannot tell from absent")
    return Verified(key)


def _vouched_by_gateway(attributes: Mapping[str, str], kind: catalog.EventType | None) -> bool:
    """Whether the gateway's key may sign this event: an external type whose (signed) `authclaims` names the
    organisation that owns the event's source. The gateway checked the caller's token; its key says so."""
    if kind is None or kind.producer != catalog.EXTERNAL or AUTH_CLAIMS not in attributes:
        return False
    try:
        claims = json.loads(attributes[AUTH_CLAIMS])
    except ValueError:
        return False
    owner_of = organisations().owner_of_source(attributes.get("source", ""))
    return isinstance(claims, dict) and owner_of is not None and claims.get("org") == owner_of.id


def _key_for(
    material: dsse.Material,
    registry: KeyRegistry,
    source: str,
    at: datetime,
    via_gateway: bool = False,
    check: ed25519.Check = ed25519.verifies,
) -> RegisteredKey:
    """The registered key, for this source (or the gateway's, when it vouches for the source's organisation) and
    valid now, whose signature over the material verifies."""
    registered = [(found, signature) for kid, signature in material.signatures if (found := registry.get(kid))]
    if not registered:
        ids = ", ".join(kid for kid, _ in material.signatures)
        raise Unauthenticated(f"it is signed with key {ids}, which is not registered for any source")
    signers = {source, service_source(GATEWAY)} if via_gateway else {source}
    mine = [(found, signature) for found, signature in registered if signers & set(found[0].sources)]
    if not mine:
        other = registered[0][0][0]
        if service_source(GATEWAY) in other.sources:
            raise Unauthenticated(
                f"it claims source {source!r} of {owner(source)}, but the gateway signed it for a caller whose "
                f"{AUTH_CLAIMS} do not name that organisation"
            )
        raise Unauthenticated(
            f"it claims source {source!r} of {owner(source)}, but is signed with key {other.key_id}, registered "
            f"for {', '.join(other.sources)} of {owner(other.sources[0])}"
        )
    current = [(found, signature) for found, signature in mine if found[0].valid_at(at)]
    if not current:
        key = mine[0][0][0]
        raise Unauthenticated(
            f"it is signed with key {key.key_id} of {source!r}, which is {key.describe_validity()}, "
            f"not at {isoformat(at)}"
        )
    for (key, public), signature in current:
        if dsse.verifies(material, public, signature, check):
            return key
    raise Unauthenticated(
        f"the signature by key {current[0][0][0].key_id} does not verify: the verification material was altered "
        "after signing or was not made with this key"
    )
