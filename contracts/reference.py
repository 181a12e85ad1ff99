"""Reference data as data: agreements, county governor offices, counties and organisations with validity."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

DATA_DIR = Path(__file__).parent / "reference_data"
AGREEMENTS_DIR = DATA_DIR / "agreements"
DEFAULT_AGREEMENT_ID = "leve-hele-livet-2019-2023"

_MUNICIPALITY = re.compile(r"^kommune-(\d{2})(\d{2})$")


class ReferenceDataError(ValueError):
    """A code that is unknown, or known but not valid on the date in question."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(_Frozen):
    """A closed validity interval; `valid_to` None means still valid."""

    valid_from: date = Field(description="First day the entry is valid.")
    valid_to: date | None = Field(default=None, description="Last day the entry is valid, or null if open.")

    def contains(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def describe(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "today"
        return f"{self.valid_from.isoformat()} to {end}"


class NamePeriod(Period):
    name: str = Field(description="The office's official name in this period.")


class CountySet(Period):
    codes: tuple[str, ...] = Field(description="County numbers the office covers in this period.")


class CountyGovernorOffice(Period):
    """A county governor office (fylkesmann, from 2021 statsforvalter): the region of the regional work."""

    id: str = Field(description="Stable office id, used as the event's region.")
    names: tuple[NamePeriod, ...] = Field(description="Official names with their validity.")
    counties: tuple[CountySet, ...] = Field(description="Counties covered, with validity.")

    def name_on(self, day: date) -> str | None:
        return next((n.name for n in self.names if n.contains(day)), None)

    def counties_on(self, day: date) -> tuple[str, ...]:
        return next((c.codes for c in self.counties if c.contains(day)), ())


class County(Period):
    code: str = Field(description="Two-digit county number.")
    name: str = Field(description="County name in this period.")


class Organisation(_Frozen):
    id: str = Field(description="Stable organisation id used in events (owner, participant, sender).")
    name: str = Field(description="Name in Norwegian.")
    kind: str = Field(description="ministry, directorate, county_governor, ks_regional, ...")
    region: str | None = Field(description="The county governor office the organisation belongs to, if any.")
    sources: tuple[str, ...] = Field(description="CloudEvents `source` values registered for its systems.")
    organisation_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{9}$",
        description="The Central Coordinating Register's organisation number (nine digits), which a Maskinporten "
        "token names as consumer ID 0192:<number>; municipalities derived from a county code have none here.",
    )
    organisation_number_synthetic: bool = Field(
        default=False,
        description="True when the number is a synthetic test number (they begin with 3; registered entities' "
        "begin with 8 or 9), to be replaced by the organisation's real one before production.",
    )


class FocusArea(_Frozen):
    id: str = Field(description="Stable id of the focus area (innsatsområde).")
    name: str = Field(description="Name in Norwegian.")


class Term(_Frozen):
    start: date = Field(description="First day of the agreement's term.")
    end: date = Field(description="Last day of the term; the agreement expires after it.")


class ReportingRules(_Frozen):
    dates: tuple[str, ...] = Field(description="Reporting dates each year as MM-DD.")
    reminder_days_before: int = Field(ge=0, description="Days before a date that the due reminder is sent.")

    def dates_in(self, year: int) -> tuple[date, ...]:
        return tuple(_month_day(year, md) for md in self.dates)


class EvaluationRules(_Frozen):
    autumn_consultation_meeting: str = Field(description="MM-DD of the autumn KS-HOD consultation meeting.")
    due_days_before_meeting: int = Field(ge=0, description="Days before the meeting the evaluation falls due.")
    completion_deadline_days_after_meeting: int = Field(
        ge=0, description="Days after the meeting by which the evaluation must be completed."
    )

    def meeting_in(self, year: int) -> date:
        return _month_day(year, self.autumn_consultation_meeting)


class ContactMeetingRules(_Frozen):
    national_interval_days: int = Field(gt=0, description="Longest accepted gap between national meetings.")
    regional_interval_days: int = Field(gt=0, description="Longest accepted gap between a region's meetings.")


class ActionItemRules(_Frozen):
    due_soon_days_before: int = Field(ge=0, description="Days before an action item's due date to remind.")


class Agreement(_Frozen):
    """One collaboration agreement; a new one is a new JSON file, not new code."""

    id: str = Field(description="Stable agreement id used in every event.")
    title: str = Field(description="Official title in Norwegian.")
    reform: str = Field(description="The reform the agreement implements.")
    signed_on: date = Field(description="Signing date.")
    parties: tuple[str, ...] = Field(min_length=2, description="Organisation ids of the parties.")
    state_actors: tuple[str, ...] = Field(description="Organisations following up from the state side.")
    term: Term = Field(description="The agreement's term.")
    notice_period_months: int = Field(ge=0, description="Minimum notice for termination, in months.")
    focus_areas: tuple[FocusArea, ...] = Field(min_length=1, description="The focus areas.")
    reporting: ReportingRules = Field(description="Regional status reporting.")
    evaluation: EvaluationRules = Field(description="Annual evaluation schedule.")
    contact_meetings: ContactMeetingRules = Field(description="How regular 'regular contact meetings' are.")
    action_items: ActionItemRules = Field(description="Action item reminders.")

    @model_validator(mode="after")
    def _term_is_ordered(self) -> Agreement:
        if self.term.end < self.term.start:
            raise ValueError("term.end is before term.start")
        return self

    @property
    def focus_area_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.focus_areas)

    def in_term(self, day: date) -> bool:
        return self.term.start <= day <= self.term.end

    def years(self) -> range:
        return range(self.term.start.year, self.term.end.year + 1)


def _month_day(year: int, month_day: str) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    return date(year, month, day)


class Regions(_Frozen):
    """County governor offices and counties, each valid only inside its period."""

    county_governor_offices: tuple[CountyGovernorOffice, ...]
    counties: tuple[County, ...]

    @cached_property
    def _offices(self) -> dict[str, CountyGovernorOffice]:
        """Every event of a region looks its office up."""
        return _first_by_id(self.county_governor_offices)

    @cached_property
    def _county_periods(self) -> dict[str, list[County]]:
        by_code: dict[str, list[County]] = {}
        for county in self.counties:
            by_code.setdefault(county.code, []).append(county)
        return by_code

    def office(self, office_id: str, on: date) -> CountyGovernorOffice:
        office = self._offices.get(office_id)
        if office is None:
            known = ", ".join(o.id for o in self.county_governor_offices)
            raise ReferenceDataError(f"unknown county governor office '{office_id}' (known: {known})")
        if not office.contains(on):
            raise ReferenceDataError(
                f"county governor office '{office_id}' is valid {office.describe()}, not on {on.isoformat()}"
            )
        return office

    def county(self, code: str, on: date) -> County:
        periods = self._county_periods.get(code, [])
        if not periods:
            raise ReferenceDataError(f"unknown county number '{code}'")
        for county in periods:
            if county.contains(on):
                return county
        valid = "; ".join(f"{c.name} {c.describe()}" for c in periods)
        raise ReferenceDataError(f"county '{code}' is not valid on {on.isoformat()} (it was valid: {valid})")

    def county_in_office(self, code: str, office_id: str, on: date) -> County:
        county = self.county(code, on)
        office = self.office(office_id, on)
        if code not in office.counties_on(on):
            raise ReferenceDataError(
                f"county '{code}' ({county.name}) does not belong to office '{office_id}' on {on.isoformat()}"
            )
        return county


class Organisations(_Frozen):
    organisations: tuple[Organisation, ...]

    def get(self, org_id: str, on: date, regions: Regions) -> Organisation:
        """The organisation, checked to exist (and its office to be valid) on the date."""
        municipality = _MUNICIPALITY.match(org_id)
        if municipality:
            county = regions.county(municipality.group(1), on)
            return Organisation(
                id=org_id,
                name=f"Kommune {municipality.group(1)}{municipality.group(2)}",
                kind="municipality",
                region=_office_of_county(regions, county.code, on),
                sources=(),
            )
        org = self._by_id.get(org_id)
        if org is None:
            raise ReferenceDataError(f"unknown organisation '{org_id}'")
        if org.region is not None:
            regions.office(org.region, on)
        return org

    @cached_property
    def _by_id(self) -> dict[str, Organisation]:
        """Every event names several organisations."""
        return _first_by_id(self.organisations)

    def owner_of_source(self, source: str) -> Organisation | None:
        return next((o for o in self.organisations if source in o.sources), None)

    def by_number(self, organisation_number: str) -> Organisation | None:
        """The organisation a Maskinporten-style token speaks for (its consumer's organisation number)."""
        return next((o for o in self.organisations if o.organisation_number == organisation_number), None)

    @model_validator(mode="after")
    def _numbers_are_unique(self) -> Organisations:
        numbers = [o.organisation_number for o in self.organisations if o.organisation_number is not None]
        if len(numbers) != len(set(numbers)):
            raise ValueError("an organisation number is given to more than one organisation")
        return self


_WithId = TypeVar("_WithId", CountyGovernorOffice, Organisation)


def _first_by_id(items: Iterable[_WithId]) -> dict[str, _WithId]:
    """Each item by its id; where an id repeats, the first, as a scan from the start finds it."""
    by_id: dict[str, _WithId] = {}
    for item in items:
        by_id.setdefault(item.id, item)
    return by_id


def _office_of_county(regions: Regions, code: str, on: date) -> str | None:
    return next((o.id for o in regions.county_governor_offices if code in o.counties_on(on)), None)


@cache
def regions() -> Regions:
    return Regions.model_validate(json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8")))


@cache
def organisations() -> Organisations:
    raw = json.loads((DATA_DIR / "organisations.json").read_text(encoding="utf-8"))
    return Organisations(organisations=raw["organisations"])


def load_agreement(path: Path) -> Agreement:
    return Agreement.model_validate_json(path.read_text(encoding="utf-8"))


@cache
def agreements(directory: Path = AGREEMENTS_DIR) -> dict[str, Agreement]:
    """Every agreement definition in the directory, by id."""
    loaded = [load_agreement(p) for p in sorted(directory.glob("*.json"))]
    return {a.id: a for a in loaded}


def agreement(agreement_id: str, directory: Path = AGREEMENTS_DIR) -> Agreement:
    known = agreements(directory)
    if agreement_id not in known:
        raise ReferenceDataError(f"unknown agreement '{agreement_id}' (known: {', '.join(sorted(known))})")
    return known[agreement_id]


@dataclass(frozen=True)
class ReferenceData:
    """What a service validates events against: the agreements it knows, the regions and the organisations."""

    agreements: Mapping[str, Agreement]
    regions: Regions
    organisations: Organisations

    @classmethod
    def load(cls, agreements_dir: str | Path | None = None) -> ReferenceData:
        directory = Path(agreements_dir) if agreements_dir else AGREEMENTS_DIR
        return cls(agreements=agreements(directory), regions=regions(), organisations=organisations())

    def agreement(self, agreement_id: str) -> Agreement:
        found = self.agreements.get(agreement_id)
        if found is None:
            raise ReferenceDataError(
                f"data.agreement_id: unknown agreement '{agreement_id}' (known: {', '.join(sorted(self.agreements))})"
            )
        return found
