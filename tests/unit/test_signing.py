"""Signing and verifying events: the documented test vector, and each reason an event is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import dsse
from contracts.envelope import CloudEvent
from contracts.keys import KeyRegistry, RegisteredKey, raw_public
from contracts.signed_bytes import EXTENSIONS
from contracts.signing import (
    Signer,
    Unauthenticated,
    sign_binary,
    sign_event,
    signed_with_bytes,
    signing,
    verify,
)
from contracts.wire import structured_view, view_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VESTLAND_MEETINGS = "/statsforvalteren/vestland/moter"
INNLANDET_MEETINGS = "/statsforvalteren/innlandet/moter"


def _documented(pattern: str) -> str:
    found = re.search(pattern, DOCS.read_text(encoding="utf-8"))
    assert found is not None, f"docs/security.md has no {pattern}"
    return found.group(1)


def _registered(signer: Signer, *sources: str, valid_to: datetime | None = None) -> RegisteredKey:
    return RegisteredKey(
        key_id=signer.key_id,
        sources=sources,
        public_key=base64.b64encode(raw_public(signer.key.public_key())).decode(),
        valid_from=NOW - timedelta(days=365),
        valid_to=valid_to,
    )


def _event(
    source: str = VESTLAND_MEETINGS, event_type: str = "no.levehelelivet.action-item.completed.v1"
) -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id="e-1",
        source=source,
        type=event_type,
        time=datetime(2022, 4, 1, 8, 15, 30, tzinfo=UTC),
        dataschema="urn:levehelelivet:schema:action-item.completed:v1",
        correlationid="c-1",
        partitionkey="leve-hele-livet-2019-2023/vestland",
        data={"action_item_id": "a1", "completed_on": "2022-03-30", "note": "Ferdig før fristen"},
    )


def _refusal(value: bytes, registry: KeyRegistry, at: datetime = NOW) -> str:
    with pytest.raises(Unauthenticated) as refused:
        verify(structured_view(value), registry, at)
    return str(refused.value)


def test_the_documented_test_vector_signs_and_verifies_as_documented() -> None:
    key = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(_documented(r"private key \(seed, hex\): `([0-9a-f]{64})`"))
    )
    signer = Signer.of(key)
    assert signer.key_id == _documented(r"key id `([0-9a-f]{16})`")
    assert base64.b64encode(raw_public(key.public_key())).decode() == _documented(r"raw 32 bytes\): `([^`]+)`")
    unsigned = _documented(r"```json\n(\{\"specversion.*\})\n```").encode()
    view = structured_view(unsigned)
    material = dsse.sign(view.attributes, view.data, EXTENSIONS, key, signer.key_id)
    assert material == _documented(r"```\n(eyJ[A-Za-z0-9+/=]+)\n```")
    envelope = json.loads(base64.b64decode(material))
    assert base64.b64decode(envelope["payload"]).decode() == _documented(r"```json\n(\{\"core\".*\})\n```")
    assert envelope["signatures"][0]["sig"] == _documented(r"signature \(Base64\): `([^`]+)`")
    signed = unsigned[:-1] + b',"dssematerial":"' + material.encode() + b'"}'
    assert verify(structured_view(signed), KeyRegistry([_registered(signer, VESTLAND_MEETINGS)]), NOW)


@pytest.mark.parametrize(
    ("extensions", "key_id"),
    [
        ((), "0123456789abcdef"),
        (EXTENSIONS, "0123456789abcdef"),
        ((*EXTENSIONS, "authclaims", 'x\u00e6"q'), 'key "\u00f8" \\ id'),
    ],
)
def test_the_envelope_and_payload_are_the_bytes_compact_json_gives(extensions: tuple[str, ...], key_id: str) -> None:
    """The material is written by hand, for speed; it must stay exactly what `json.dumps` would write."""
    key = Ed25519PrivateKey.generate()
    view = structured_view(_event().to_bytes())
    envelope = base64.b64decode(dsse.sign(view.attributes, view.data, extensions, key, key_id))
    opened = json.loads(envelope)
    payload = base64.b64decode(opened["payload"])
    reference: dict[str, object] = {"core": base64.b64encode(dsse.core_digest(view.attributes, view.data)).decode()}
    if extensions:
        reference["ext"] = base64.b64encode(dsse.ext_digest(view.attributes, extensions)).decode()
        reference["signedextattrs"] = list(extensions)
    assert payload == json.dumps(reference, separators=(",", ":")).encode()
    sig = opened["signatures"][0]["sig"]
    written = {
        "payload": opened["payload"],
        "payloadType": dsse.PAYLOAD_TYPE,
        "signatures": [{"keyid": key_id, "sig": sig}],
    }
    assert envelope == json.dumps(written, separators=(",", ":")).encode()
    key.public_key().verify(base64.b64decode(sig), dsse.pae(dsse.PAYLOAD_TYPE, payload))


def test_the_extension_names_of_records_being_verified_are_not_remembered() -> None:
    """Only a signer's own names are kept once checked; a publisher choosing new names for every record must not
    fill the signer's memory."""
    before = dsse._checked_names.cache_info().currsize
    for n in range(300):
        names = [f"x{n}-{m}" for m in range(50)]
        material = {"core": base64.b64encode(bytes(32)).decode(), "ext": base64.b64encode(bytes(32)).decode()}
        envelope = {
            "payload": base64.b64encode(json.dumps({**material, "signedextattrs": names}).encode()).decode(),
            "payloadType": dsse.PAYLOAD_TYPE,
            "signatures": [{"keyid": "k", "sig": base64.b64encode(bytes(64)).decode()}],
        }
        opened = dsse.open_material(base64.b64encode(json.dumps(envelope).encode()).decode())
        assert opened.signed_extensions == tuple(names)
    assert dsse._checked_names.cache_info().currsize == before


def test_time_is_hashed_in_utc_to_the_second_and_data_as_its_exact_bytes() -> None:
    assert dsse.timestamp("2022-04-01T10:15:30.250+02:00") == "2022-04-01T08:15:30Z"
    assert dsse.timestamp("2022-04-01T08:15:30") == "2022-04-01T08:15:30Z"
    spaced = structured_view(b'{"id": "1", "data" : {"a": [1, 2]} , "x": 1}')
    assert spaced.data == b'{"a": [1, 2]}'
    assert spaced.attributes["id"] == "1"


def test_an_event_signed_and_sent_unchanged_verifies_with_the_key_of_its_source() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    signed = sign_event(_event(), signer).to_bytes()
    verified = verify(structured_view(signed), KeyRegistry([_registered(signer, VESTLAND_MEETINGS)]), NOW)
    assert verified.key.key_id == signer.key_id


def test_the_bytes_signed_from_one_serialization_are_the_signed_events_own_and_verify() -> None:
    """What the outbox stores is cut from one serialization, not parsed back: the same bytes as the signed model's,
    also when a value holds the text `,"data":` or the event carries another party's extension."""
    signer = Signer.of(Ed25519PrivateKey.generate())
    registry = KeyRegistry([_registered(signer, VESTLAND_MEETINGS)])
    tricky = _event().model_copy(update={"subject": 'meeting/x,"data":{"y":1}', "causationid": "é\u0000\\"})
    for event in (_event(), tricky, _event().model_copy(update={"tenant": "x"}), sign_event(_event(), signer)):
        signed, value = signed_with_bytes(event, signer)
        assert value == signed.to_bytes()
        pending = signing(event, signer.key_id)
        assert pending.value(signer.sign(pending.message)) == value  # the outbox's bytes, with no signed model made
        assert verify(structured_view(value), registry, NOW).key.key_id == signer.key_id
        assert structured_view(value).data == json.dumps(event.data, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_unsigned_event_is_refused() -> None:
    message = _refusal(_event().to_bytes(), KeyRegistry(()))
    assert "not signed" in message


def test_a_key_nobody_registered_is_refused() -> None:
    signed = sign_event(_event(), Signer.of(Ed25519PrivateKey.generate()))
    assert "not registered" in _refusal(signed.to_bytes(), KeyRegistry(()))


def test_an_event_claiming_another_organisations_source_is_refused_naming_both() -> None:
    innlandet = Signer.of(Ed25519PrivateKey.generate())
    forged = sign_event(_event(source=VESTLAND_MEETINGS), innlandet)
    message = _refusal(forged.to_bytes(), KeyRegistry([_registered(innlandet, INNLANDET_MEETINGS)]))
    assert "sf-vestland" in message
    assert "sf-innlandet" in message


def test_data_changed_after_signing_is_refused() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    signed = sign_event(_event(), signer).to_bytes()
    changed = signed.replace("Ferdig før fristen".encode(), b"Klikk her: http://phish.example")
    message = _refusal(changed, KeyRegistry([_registered(signer, VESTLAND_MEETINGS)]))
    assert "changed after signing" in message


def test_an_extension_changed_after_signing_is_refused() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    signed = sign_event(_event(), signer).to_bytes().replace(b'"correlationid":"c-1"', b'"correlationid":"c-2"')
    assert "extension" in _refusal(signed, KeyRegistry([_registered(signer, VESTLAND_MEETINGS)]))


def test_a_key_is_accepted_before_its_end_and_refused_from_it() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    registry = KeyRegistry([_registered(signer, VESTLAND_MEETINGS, valid_to=NOW)])
    signed = sign_event(_event(), signer).to_bytes()
    assert verify(structured_view(signed), registry, NOW - timedelta(seconds=1))
    assert "not at" in _refusal(signed, registry, NOW)


def test_a_derived_type_is_refused_unless_its_service_published_it() -> None:
    meetings = Signer.of(Ed25519PrivateKey.generate())
    registry = KeyRegistry([_registered(meetings, "/lhl/meetings")])
    claimed = sign_event(
        _event(source=VESTLAND_MEETINGS, event_type="no.levehelelivet.action-item.assigned.v1"), meetings
    )
    assert "published only by the meetings service" in _refusal(claimed.to_bytes(), registry)
    genuine = sign_event(
        _event(source="/lhl/meetings", event_type="no.levehelelivet.action-item.assigned.v1"), meetings
    )
    assert verify(structured_view(genuine.to_bytes()), registry, NOW)


@pytest.mark.parametrize(
    ("material", "complaint"),
    [
        ({"signedextattrs": ["exta", "exta"]}, "repeats"),
        ({"signedextattrs": ["exta", "id"]}, "must never be listed"),
        ({"signedextattrs": ["dssematerial"]}, "must never be listed"),
        ({"ext": None}, "together"),
        ({"signedextattrs": None}, "together"),
    ],
)
def test_material_breaking_the_extensions_constraints_is_refused(material: dict[str, object], complaint: str) -> None:
    digest = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    body = {"core": digest, "ext": digest, "signedextattrs": ["exta"], **material}
    payload = {k: v for k, v in body.items() if v is not None}
    envelope = {
        "payload": base64.b64encode(json.dumps(payload).encode()).decode(),
        "payloadType": dsse.PAYLOAD_TYPE,
        "signatures": [{"keyid": "k", "sig": "AA=="}],
    }
    with pytest.raises(dsse.MaterialError, match=complaint):
        dsse.open_material(base64.b64encode(json.dumps(envelope).encode()).decode())


def test_an_extension_added_after_signing_is_refused_and_one_signed_with_the_event_verifies() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    registry = KeyRegistry([_registered(signer, VESTLAND_MEETINGS)])
    signed = sign_event(_event(), signer).to_bytes()
    assert "tenant are not covered" in _refusal(signed[:-1] + b',"tenant":"x"}', registry)
    carried = sign_event(_event().model_copy(update={"tenant": "x"}), signer).to_bytes()
    assert b'"tenant":"x"' in carried
    assert verify(structured_view(carried), registry, NOW)


def test_a_binary_mode_record_verifies_over_its_headers_and_value_and_not_once_a_header_changed() -> None:
    signer = Signer.of(Ed25519PrivateKey.generate())
    registry = KeyRegistry([_registered(signer, VESTLAND_MEETINGS)])
    event = _event()
    headers = {
        f"ce_{name}": str(value).encode() for name, value in json.loads(event.to_bytes()).items() if name != "data"
    }
    headers["content-type"] = headers.pop("ce_datacontenttype")
    value = json.dumps(event.data).encode()
    signed = sign_binary(value, headers, event.partitionkey.encode(), signer)
    assert verify(view_of(value, signed.items(), event.partitionkey.encode()), registry, NOW)
    moved = {**signed, "ce_subject": b"action-item/another"}
    with pytest.raises(Unauthenticated, match="changed after signing"):
        verify(view_of(value, moved.items(), event.partitionkey.encode()), registry, NOW)
