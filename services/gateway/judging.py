"""Deciding on one posted event, without I/O: refused (400), forbidden (403), or the signed event to publish.

The contract's checks are not repeated here: `runtime.admission.admit` runs them, with the owning services' own
checks against the reference data, exactly as the service that will receive the event does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts import catalog
from contracts.dsse import ATTRIBUTE as SIGNATURE_ATTRIBUTE
from contracts.envelope import CONTENT_TYPE, CloudEvent
from contracts.reference import Organisation
from contracts.rejections import Reason, Rejected
from contracts.signing import AUTH_CLAIMS, AUTH_ID, AUTH_TYPE, Signer, sign_event
from runtime.admission import Check, admit
from runtime.records import Incoming
from services.gateway.auth import Caller

SET_BY_GATEWAY: Final = (AUTH_TYPE, AUTH_ID, AUTH_CLAIMS, SIGNATURE_ATTRIBUTE)
AUTH_TYPE_VALUE: Final = "service_account"
"""The authcontext extension's value for a system that authenticated as its organisation (a Maskinporten client)."""
EXTERNAL_TYPES: Final = {t.name: t for t in catalog.EVENT_TYPES if t.producer == catalog.EXTERNAL}

MaySend = Callable[[str, Organisation], bool]
"""Whether an organisation may ever send an event type (the receiving service's rule, as the broker's ACLs use)."""


class Forbidden(Exception):
    """The caller may not send this event; the message says why."""


@dataclass(frozen=True)
class Judged:
    """An event the gateway will publish: signed, with the digest of what the caller posted."""

    event: CloudEvent
    topic: str
    digest: str


def digest_of(posted: Any) -> str:
    """What makes a retried POST the same: the event as posted, member order and spacing aside."""
    canonical = json.dumps(posted, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def authcontext(caller: Caller) -> dict[str, str]:
    """Who caused the event, as the CloudEvents authcontext extension says it: never a credential."""
    claims = {
        "iss": caller.issuer,
        "sub": caller.subject,
        "consumer": f"0192:{caller.organisation_number}",
        "org": caller.organisation.id,
        "jti": caller.token_id,
    }
    return {
        AUTH_TYPE: AUTH_TYPE_VALUE,
        AUTH_ID: caller.subject,
        AUTH_CLAIMS: json.dumps(claims, separators=(",", ":"), ensure_ascii=False),
    }


def judge(
    posted: Any,
    caller: Caller,
    checks: Mapping[str, Check],
    may_send: MaySend,
    signer: Signer,
) -> Judged:
    """The signed event to publish, or Rejected (the contract refuses it) or Forbidden (this caller may not)."""
    if not isinstance(posted, dict):
        raise Rejected(Reason.NOT_CLOUDEVENT, "the event: expected a JSON object (a CloudEvent in structured mode)")
    _authorise(posted, caller, may_send)
    already = [name for name in SET_BY_GATEWAY if name in posted]
    if already:
        raise Rejected(
            Reason.INVALID_DATA,
            "; ".join(f"{name}: set by the gateway, which signs what it accepts; leave it out" for name in already),
        )
    event = {**posted, **authcontext(caller)}
    key = event.get("partitionkey")
    record = Incoming(
        topic="",
        partition=0,
        offset=0,
        key=key.encode() if isinstance(key, str) else None,
        value=json.dumps(event, ensure_ascii=False).encode(),
        headers=(("content-type", CONTENT_TYPE.encode()),),
    )
    parsed, _ = admit(record, EXTERNAL_TYPES, checks)
    return Judged(sign_event(parsed, signer), EXTERNAL_TYPES[parsed.type].topic, digest_of(posted))


def _authorise(posted: dict[str, Any], caller: Caller, may_send: MaySend) -> None:
    """Before the contract is read: a caller learns nothing about events it may not send."""
    source, event_type = posted.get("source"), posted.get("type")
    kind = catalog.BY_NAME.get(event_type) if isinstance(event_type, str) else None
    if kind is not None and kind.producer != catalog.EXTERNAL:
        raise Forbidden(f"type: {event_type} is published only by the {kind.producer} service")
    if isinstance(source, str) and not caller.may_publish_as(source):
        registered = ", ".join(caller.organisation.sources) or "none"
        raise Forbidden(
            f"source: {source!r} is not registered for {caller.organisation.id} ({caller.organisation.name}), "
            f"which the token speaks for; its sources: {registered}"
        )
    if kind is not None and not may_send(kind.name, caller.organisation):
        raise Forbidden(f"type: {caller.organisation.id} may not send {kind.name}; the receiving service refuses it")
