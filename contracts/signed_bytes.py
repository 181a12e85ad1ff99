"""What an event's signature covers, and an event's exact bytes signed without a model of it: light enough (no
pydantic) for the check processes (`runtime.check_child`) to import. Who may sign what is `contracts.signing`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from contracts import dsse
from contracts.wire import WireView

EXTENSIONS: Final = ("correlationid", "causationid", "traceparent", "partitionkey")
"""This system's extension attributes: always signed, in this order, then any other extension the event carries."""
NOT_EXTENSIONS: Final = frozenset({*dsse.CORE_ATTRIBUTES, dsse.ATTRIBUTE, "data", "data_base64"})
DATA_MEMBER: Final = b',"data":'


@dataclass(frozen=True)
class ValueSigning:
    """An unsigned event's exact bytes on their way to being signed: what is signed, and the signed bytes."""

    value: bytes
    cut: int
    """Where the `data` member starts: `dssematerial` goes in just before it."""
    to_sign: dsse.ToSign

    def inserted(self, material: str) -> bytes:
        return self.value[: self.cut] + member(material) + self.value[self.cut :]

    def signed(self, signature: bytes) -> bytes:
        """The signed event's exact bytes, with this signature over `to_sign.message`."""
        return self.inserted(self.to_sign.material(signature))


def value_signing(value: bytes, key_id: str) -> ValueSigning:
    """The signing of an event's `to_bytes()` that has no `dssematerial` and no extension attributes of other
    parties, from its bytes alone (`contracts.signing.signing` says why the cut is exact): what a check process
    signs too."""
    cut = value.index(DATA_MEMBER)
    view = WireView(json.loads(value[:cut] + b"}"), value[cut + len(DATA_MEMBER) : -1])
    return ValueSigning(value, cut, dsse.to_sign(view.attributes, view.data, extensions_of(view), key_id))


def member(material: str) -> bytes:
    """`dssematerial` as a JSON member, with its leading comma: Base64 needs no escaping."""
    return b',"' + dsse.ATTRIBUTE.encode() + b'":"' + material.encode() + b'"'


def extensions_of(view: WireView) -> list[str]:
    """What a signer signs: this system's extensions (present or not), then every other extension present."""
    return [*EXTENSIONS, *sorted(n for n in view.attributes if n not in NOT_EXTENSIONS and n not in EXTENSIONS)]
