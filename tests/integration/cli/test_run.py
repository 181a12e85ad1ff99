"""`lhl run` (what `make run` starts) brings a service up to ready, and stops it cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from tests.support.infra import Infra


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until_ready(url: str, process: asyncio.subprocess.Process, timeout: float = 90.0) -> dict[str, object]:
    async with httpx.AsyncClient() as client, asyncio.timeout(timeout):
        while True:
            assert process.returncode is None, "lhl run exited before the service was ready"
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    body: dict[str, object] = response.json()
                    return body
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)


async def test_a_service_started_by_lhl_run_becomes_ready_and_stops_cleanly_on_sigterm(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "TOPIC_PREFIX": f"t{run_id}.",
        "DB_SCHEMA": f"t{run_id}_meetings",
        "HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    # The console script `make run` calls, from the environment the tests run in.
    lhl = Path(sys.executable).parent / "lhl"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(lhl), "run", "meetings", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            ready = await wait_until_ready(f"http://127.0.0.1:{port}/health/ready", process)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log.read_text(encoding="utf-8")
    assert ready["status"] == "ready", ready
    assert code == 0, output
    assert '"event": "service_stopped"' in output
    assert "stopped with errors" not in output
