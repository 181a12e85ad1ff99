"""The shipped subscriptions seed is valid against the reference data, and a bad seed says where it is wrong."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from contracts import reference
from services.notifications import seed
from services.notifications.settings import DEFAULT_SEED

ON = date(2022, 6, 1)


def test_the_shipped_seed_names_real_organisations_and_their_registered_sources() -> None:
    parsed = seed.read(Path(DEFAULT_SEED))
    orgs, regions = reference.organisations(), reference.regions()
    for r in parsed.recipients:
        assert r.organisation is not None
        owner = orgs.get(r.organisation, ON, regions)
        assert set(r.sources) <= set(owner.sources), r.id
        assert r.contact_points, r.id


def test_the_shipped_seed_covers_the_parties_the_directorate_every_office_and_ks_regionally() -> None:
    ids = {r.id for r in seed.read(Path(DEFAULT_SEED)).recipients}
    offices = {o.id for o in reference.regions().county_governor_offices}
    assert {"hod", "ks", "hdir"} <= ids
    assert {f"sf-{o}" for o in offices} <= ids
    assert {f"ks-{o}" for o in offices} <= ids
    assert {"system-hod", "system-ks", "system-hdir"} <= ids


def test_a_seed_with_a_bad_address_and_an_unknown_event_type_names_both_paths(tmp_path: Path) -> None:
    bad = {
        "recipients": [
            {
                "id": "hod",
                "name": "HOD",
                "kind": "organisation",
                "organisation": "hod",
                "agreements": ["leve-hele-livet-2019-2023"],
                "contact_points": [{"id": "hod-epost", "email": "not-an-address"}],
                "filters": [{"id": "f", "event_types": ["no.levehelelivet.nothing.v1"]}],
            }
        ]
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(seed.SeedError) as error:
        seed.read(path)
    assert "recipients.0.contact_points.0" in str(error.value)
    assert "not an e-mail address" in str(error.value)
    assert "recipients.0.filters.0" in str(error.value)
    assert "no.levehelelivet.nothing.v1" in str(error.value)


def test_a_webhook_without_a_secret_variable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    hook = {"id": "h", "webhook_url": "https://example.invalid/hook"}
    recipient = {"id": "x", "name": "X", "kind": "system", "agreements": [], "contact_points": [hook]}
    path.write_text(json.dumps({"recipients": [recipient]}), encoding="utf-8")
    with pytest.raises(seed.SeedError, match="signing_secret_env"):
        seed.read(path)
