"""Audit instances started at once on a fresh database all start: the owner's bootstrap (schema, migrations, the
writer's and readers' grants) is made once and found made by the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.audit.connections import bootstrap
from tests.integration.audit.helpers import audit_settings
from tests.support.infra import Infra


async def test_the_audit_started_several_times_at_once_bootstraps_once(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path)
    applied = await asyncio.gather(*(bootstrap(settings) for _ in range(6)))
    names = [name for one in applied for name in one]
    assert names  # a fresh schema: the migrations were applied
    assert len(names) == len(set(names))  # each by one of the six
    assert await bootstrap(settings) == []
