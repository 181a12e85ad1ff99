"""Reference data: codes are valid only inside their periods, and the shipped agreement is data, not code."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from contracts import reference
from contracts.reference import ReferenceDataError


def test_a_county_code_is_valid_only_inside_its_period() -> None:
    regions = reference.regions()
    assert regions.county("12", date(2019, 6, 1)).name == "Hordaland"
    with pytest.raises(ReferenceDataError, match=r"county '12' is not valid on 2022-05-01 .*Hordaland"):
        regions.county("12", date(2022, 5, 1))
    assert regions.county("46", date(2022, 5, 1)).name == "Vestland"


def test_an_unknown_county_is_named_in_the_error() -> None:
    with pytest.raises(ReferenceDataError, match="unknown county number '99'"):
        reference.regions().county("99", date(2022, 5, 1))


def test_county_codes_reused_after_2024_resolve_to_the_new_county() -> None:
    regions = reference.regions()
    assert regions.county("03", date(2019, 1, 1)).name == "Oslo"
    assert regions.county("34", date(2024, 1, 1)).name == "Innlandet"
    with pytest.raises(ReferenceDataError):
        regions.county("30", date(2024, 1, 1))


def test_office_names_follow_the_2021_rename_and_the_2024_split() -> None:
    office = reference.regions().office("oslo-viken", date(2020, 6, 1))
    assert office.name_on(date(2020, 12, 31)) == "Fylkesmannen i Oslo og Viken"
    assert office.name_on(date(2021, 1, 1)) == "Statsforvalteren i Oslo og Viken"
    assert office.name_on(date(2024, 1, 1)) == "Statsforvalteren i Østfold, Buskerud, Oslo og Akershus"


def test_a_county_must_belong_to_the_office_on_the_date() -> None:
    regions = reference.regions()
    assert regions.county_in_office("46", "vestland", date(2021, 3, 1)).name == "Vestland"
    with pytest.raises(ReferenceDataError, match="does not belong to office 'rogaland'"):
        regions.county_in_office("46", "rogaland", date(2021, 3, 1))


def test_there_are_ten_county_governor_offices_and_each_county_in_a_period_has_one_office() -> None:
    regions = reference.regions()
    assert len(regions.county_governor_offices) == 10
    for day in (date(2019, 6, 1), date(2022, 6, 1), date(2024, 6, 1)):
        covered = [c for o in regions.county_governor_offices for c in o.counties_on(day)]
        valid = [c.code for c in regions.counties if c.contains(day)]
        assert sorted(covered) == sorted(valid)


def test_municipalities_are_known_by_number_within_a_valid_county() -> None:
    orgs, regions = reference.organisations(), reference.regions()
    assert orgs.get("kommune-4601", date(2022, 1, 1), regions).region == "vestland"
    with pytest.raises(ReferenceDataError, match="county '46' is not valid on 2019"):
        orgs.get("kommune-4601", date(2019, 1, 1), regions)


def test_the_shipped_agreement_carries_its_terms() -> None:
    agreement = reference.agreement(reference.DEFAULT_AGREEMENT_ID)
    assert agreement.parties == ("hod", "ks")
    assert agreement.signed_on == date(2018, 6, 29)
    assert (agreement.term.start, agreement.term.end) == (date(2019, 1, 1), date(2023, 12, 31))
    assert agreement.notice_period_months == 3
    assert agreement.reporting.dates_in(2022) == (date(2022, 5, 15), date(2022, 11, 1))
    assert len(agreement.focus_areas) == 5


def test_a_second_agreement_is_loaded_from_its_definition_without_code(tmp_path: Path) -> None:
    shipped = json.loads((reference.AGREEMENTS_DIR / "leve-hele-livet-2019-2023.json").read_text(encoding="utf-8"))
    second = {**shipped, "id": "pilot-2024-2025", "term": {"start": "2024-01-01", "end": "2025-06-30"}}
    (tmp_path / "pilot.json").write_text(json.dumps(second), encoding="utf-8")
    loaded = reference.agreements(tmp_path)
    assert list(loaded) == ["pilot-2024-2025"]
    assert loaded["pilot-2024-2025"].years() == range(2024, 2026)


def test_an_agreement_whose_term_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    shipped = json.loads((reference.AGREEMENTS_DIR / "leve-hele-livet-2019-2023.json").read_text(encoding="utf-8"))
    broken = {**shipped, "term": {"start": "2024-01-01", "end": "2023-01-01"}}
    (tmp_path / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match=r"term\.end is before term\.start"):
        reference.load_agreement(tmp_path / "broken.json")


def _mod11_valid(number: str) -> bool:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    check = 11 - sum(int(d) * w for d, w in zip(number[:8], weights, strict=True)) % 11
    return number[8] == str(0 if check == 11 else check) and check != 10


def test_every_organisation_has_a_well_formed_unique_number_and_synthetic_ones_say_so() -> None:
    orgs = reference.organisations().organisations
    numbers = [o.organisation_number for o in orgs]
    assert None not in numbers
    assert len(set(numbers)) == len(numbers)
    assert all(n is not None and _mod11_valid(n) for n in numbers)
    # Synthetic numbers begin with 3, a range no registered entity has (theirs begin with 8 or 9).
    assert all((o.organisation_number or "").startswith("3") == o.organisation_number_synthetic for o in orgs)
    registered = {o.id: o.organisation_number for o in orgs if not o.organisation_number_synthetic}
    assert registered == {"ks": "971032146", "hdir": "983544622"}
    assert reference.organisations().by_number("971032146") == next(o for o in orgs if o.id == "ks")
