"""The base of every event data model, and the bounded types every field is made of.

Each type states its limits so that the exported JSON Schema says them too: every string has a length (or a
pattern of bounded length), every number a minimum and a maximum, every list a largest size. Patterns use
`[0-9]`, never `\\d`, which matches other scripts' digits in some regex engines.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from contracts import limits


class EventData(BaseModel):
    """Data of one event type; every field carries a description for the schema and the AsyncAPI document."""

    model_config = ConfigDict(frozen=True, extra="forbid")


YEARS_PATTERN = "^(19[0-9]{2}|2[0-9]{3})-"
"""Dates and times from 1900 to 2999: every date of an agreement, with room, and far from the ends of the
calendars that Python and PostgreSQL can convert to UTC (year 1 with an offset east of UTC is not one of them)."""

Day = Annotated[
    date,
    Field(json_schema_extra={"pattern": YEARS_PATTERN, "maxLength": 10}),
]
"""A calendar date written YYYY-MM-DD."""
Moment = Annotated[
    AwareDatetime,
    Field(json_schema_extra={"pattern": YEARS_PATTERN, "maxLength": 40}),
]
"""A point in time, RFC 3339 with an offset."""
Count = Annotated[int, Field(ge=0, le=limits.MAX_COUNT)]
Attempts = Annotated[int, Field(ge=1, le=1000)]

AGREEMENT_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{2,80}$"
REGION_ID_PATTERN: Final = r"^[a-z][a-z-]{1,40}$"

AgreementId = Annotated[
    str,
    StringConstraints(pattern=AGREEMENT_ID_PATTERN, max_length=81),
    Field(description="Agreement id, e.g. leve-hele-livet-2019-2023."),
]
RegionId = Annotated[
    str,
    StringConstraints(pattern=REGION_ID_PATTERN, max_length=41),
    Field(description="County governor office id, e.g. vestland."),
]
OrganisationId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,60}$", max_length=61),
    Field(description="Organisation id from the reference data (hod, ks, hdir, sf-vestland, kommune-4601, ...)."),
]
CountyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{2}$", max_length=2),
    Field(description="Two-digit county number."),
]
FocusAreaId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z-]{1,60}$", max_length=61),
    Field(description="Focus area id from the agreement."),
]
BusinessId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(description="Identifier chosen by the publishing system; stable across updates."),
]
NO_NUL = r"^[^\u0000]*$"
"""Text without NUL, which PostgreSQL stores neither as text nor as jsonb (`\\u0000` reads the same in ECMA-262,
Python and Rust regular expressions)."""
Text = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=limits.MAX_TEXT_CHARS, pattern=r"^[^\u0000]*[^ \t\n\r\u0000][^\u0000]*$"
    ),
]
"""Free text with at least one character that is not white space, and no NUL."""
EventId = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_ID_CHARS, pattern=NO_NUL)]
EventSource = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_SOURCE_CHARS, pattern=NO_NUL)]
EventTypeName = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_TYPE_CHARS, pattern=NO_NUL)]
KafkaPartition = Annotated[int, Field(ge=0, le=2**31 - 1)]
KafkaOffset = Annotated[int, Field(ge=0, le=2**63 - 1)]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$", max_length=40)]
TopicName = Annotated[str, StringConstraints(min_length=1, max_length=249, pattern=NO_NUL)]
"""Kafka's own limit on a topic's name."""
