"""Each service's database role owns its schema and cannot read or write another's; the superuser has no way in
over TCP. Each test makes its own schemas, as the role that owns them."""

from __future__ import annotations

import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.support.infra import SERVICES, Infra


async def _own_schema(infra: Infra, service: str, run_id: str) -> str:
    """A schema of the service's role holding one row, as the service's migrations would make it."""
    schema = f"t{run_id}_{service}"
    conn = await asyncpg.connect(infra.service_database_url(service))
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"CREATE TABLE {schema}.facts (fact text)")
        await conn.execute(f"INSERT INTO {schema}.facts VALUES ('mine')")
    finally:
        await conn.close()
    return schema


@pytest.mark.parametrize(("intruder", "owner"), list(itertools.permutations(SERVICES, 2)))
async def test_a_service_role_can_neither_read_nor_write_another_services_schema(
    infra: Infra, run_id: str, intruder: str, owner: str
) -> None:
    schema = await _own_schema(infra, owner, run_id)
    conn = await asyncpg.connect(infra.service_database_url(intruder))
    try:
        for statement in (
            f"SELECT fact FROM {schema}.facts",
            f"INSERT INTO {schema}.facts VALUES ('forged')",
            f"DELETE FROM {schema}.facts",
            f"CREATE TABLE {schema}.planted (x int)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"permission denied for schema {schema}"):
                await conn.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"must be owner of schema {schema}"):
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


async def test_the_production_schemas_belong_each_to_its_own_service_role(infra: Infra) -> None:
    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await conn.fetch(
            "SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = ANY($1::text[])",
            list(SERVICES),
        )
    finally:
        await conn.close()
    assert {r["nspname"]: r["owner"] for r in rows} == {s: f"lhl_{s}" for s in SERVICES}


async def test_the_operator_reads_the_services_state_but_not_the_audit_log(infra: Infra, run_id: str) -> None:
    meetings = await _own_schema(infra, "meetings", run_id)
    audit = await _own_schema(infra, "audit", run_id)
    conn = await asyncpg.connect(infra.database_url)
    try:
        assert await conn.fetchval(f"SELECT fact FROM {meetings}.facts") == "mine"
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"permission denied for schema {audit}"):
            await conn.execute(f"DELETE FROM {audit}.facts")
    finally:
        await conn.close()


async def test_the_superuser_cannot_log_in_over_tcp(infra: Infra) -> None:
    parts = urlsplit(infra.database_url)
    # Whatever password one tries: the server rejects the superuser on TCP before asking for one.
    as_superuser = urlunsplit(parts._replace(netloc=f"postgres:postgres@{parts.hostname}:{parts.port}"))
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match=r'rejects connection .* user "postgres"'):
        await asyncpg.connect(as_superuser)


def test_no_database_url_in_the_environment_carries_a_well_known_password(infra: Infra) -> None:
    urls = {name: value for name, value in os.environ.items() if name.endswith("DATABASE_URL")}
    assert urls, "the stack's environment names the database"
    passwords = {name: urlsplit(url).password for name, url in urls.items()}
    assert all(p and len(p) >= 24 and p not in ("lhl", "postgres") for p in passwords.values()), passwords.keys()
