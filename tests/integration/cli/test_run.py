"""`lhl run` (what `make run` starts) brings a service up to ready, and stops it cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import yaml

from contracts import keys
from deploy import lockfile
from tests.support.http import free_port
from tests.support.infra import Infra
from tests.support.processes import LHL, wait_until_ready


async def compose_healthcheck(port: int) -> int:
    """Run the compose file's healthcheck command as Docker would, beside the service it checks."""
    compose = yaml.safe_load((lockfile.ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    kind, program, *arguments = compose["services"]["meetings"]["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "python")
    check = await asyncio.create_subprocess_exec(sys.executable, *arguments, env={**os.environ, "HTTP_PORT": str(port)})
    async with asyncio.timeout(30):
        return await check.wait()


async def test_a_service_started_by_lhl_run_becomes_ready_and_stops_cleanly_on_sigterm(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "KEYS_DIR": str(tmp_path / "keys"),  # empty: lhl run makes the service's key
        "TOPIC_PREFIX": f"t{run_id}.",
        "DB_SCHEMA": f"t{run_id}_meetings",
        "HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(LHL), "run", "meetings", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            ready = await wait_until_ready(f"http://127.0.0.1:{port}/health/ready", process)
            healthy = await compose_healthcheck(port)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    gone = await compose_healthcheck(port)
    output = log.read_text(encoding="utf-8")
    assert ready["status"] == "ready", ready
    assert healthy == 0, "the compose file's healthcheck fails against a ready service"
    assert gone != 0, "the compose file's healthcheck passes with no service behind it"
    assert code == 0, output
    assert '"event": "service_stopped"' in output
    [registered] = keys.read(tmp_path / "keys" / "registry.json")
    assert registered.sources == ("/lhl/meetings",)
    assert (tmp_path / "keys" / "meetings.pem").stat().st_mode & 0o777 == 0o600
    assert "stopped with errors" not in output
