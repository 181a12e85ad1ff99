"""The tests' keys: one per registered source of every organisation and one per service, in a throwaway folder.

Every publisher in the tests signs as the real one would; the services under test trust this folder's registry.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from contracts.envelope import CloudEvent
from contracts.reference import organisations
from contracts.rejections import Rejected
from contracts.signing import SERVICE_SOURCE_PREFIX, Signer, sign_binary, sign_event, sign_structured
from contracts.wire import structured_view
from runtime import keystore
from runtime.records import Incoming
from runtime.verification import EventVerifier

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
"""Before any simulated clock of the tests, so a test's manual clock never falls outside a key's validity."""


class KeyFolder:
    """Private keys by source, and the registry of their public halves that the services under test load."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.registry = directory / "registry.json"
        self._by_source: dict[str, Signer] = {}

    def signer(self, source: str) -> Signer:
        """The key registered for this source (a service's own key for a service's source), made on first use."""
        if source.startswith(SERVICE_SOURCE_PREFIX):
            return self.ensure_service(source.removeprefix(SERVICE_SOURCE_PREFIX))
        if source not in self._by_source:
            self._by_source.update(keystore.ensure_source_keys(self.directory, self.registry, [source], SINCE))
        return self._by_source[source]

    def ensure_service(self, service: str) -> Signer:
        return keystore.ensure_service_key(self.directory, self.registry, service, SINCE)

    def sign(self, event: CloudEvent) -> CloudEvent:
        return sign_event(event, self.signer(event.source))

    def sign_binary(self, value: bytes, headers: Mapping[str, bytes], key: bytes | None) -> dict[str, bytes]:
        """A binary-mode record's headers, with the signature of the source its `ce_source` header names."""
        return sign_binary(value, headers, key, self.signer(headers["ce_source"].decode()))

    def sign_bytes(self, value: bytes) -> bytes:
        """A structured event's exact bytes, signed by its source's key: for events no model would serialize."""
        return sign_structured(value, self.signer(structured_view(value).attributes["source"]))


@cache
def keys_for_tests() -> KeyFolder:
    keys = KeyFolder(Path(tempfile.mkdtemp(prefix="lhl-test-keys-")))
    for org in organisations().organisations:
        for source in org.sources:
            keys.signer(source)
    for service in ("meetings", "evaluations", "notifications", "audit"):
        keys.ensure_service(service)
    return keys


def with_signature_of(event: CloudEvent, other: CloudEvent) -> CloudEvent:
    """The event with the signature of another event by the same key: well formed, and it does not verify."""
    mine, theirs = (json.loads(base64.b64decode(e.dssematerial or "")) for e in (event, other))
    mine["signatures"][0]["sig"] = theirs["signatures"][0]["sig"]
    material = base64.b64encode(json.dumps(mine).encode()).decode()
    return event.model_copy(update={"dssematerial": material})


def accepts(verifier: EventVerifier, record: Incoming) -> bool:
    """Whether the service's verifier, in place, lets the record through (a refusal is `unauthenticated`)."""
    try:
        verifier.check(record)
    except Rejected:
        return False
    return True
