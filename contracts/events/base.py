"""The base of every event data model: frozen, closed to unknown fields, documented."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class EventData(BaseModel):
    """Data of one event type; every field carries a description for the schema and the AsyncAPI document."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


AgreementId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,80}$"),
    Field(description="Agreement id, e.g. leve-hele-livet-2019-2023."),
]
RegionId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z-]{1,40}$"),
    Field(description="County governor office id, e.g. vestland."),
]
OrganisationId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,60}$"),
    Field(description="Organisation id from the reference data (hod, ks, hdir, sf-vestland, kommune-4601, ...)."),
]
CountyCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$"), Field(description="Two-digit county number.")]
FocusAreaId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z-]{1,60}$"),
    Field(description="Focus area id from the agreement."),
]
BusinessId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(description="Identifier chosen by the publishing system; stable across updates."),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
