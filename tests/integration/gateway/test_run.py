"""`lhl run gateway` (part of `make run`) serves the API, health and metrics, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from contracts import keys
from tests.support.http import free_port
from tests.support.infra import Infra
from tests.support.processes import LHL, wait_until_ready


async def test_the_gateway_started_by_lhl_run_becomes_ready_serves_its_document_and_stops_on_sigterm(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "KEYS_DIR": str(tmp_path / "keys"),  # empty: lhl run makes the gateway's key
        "TOPIC_PREFIX": f"t{run_id}.",
        "DB_SCHEMA": f"t{run_id}_gateway",
        "HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    assert env.get("LHL_GATEWAY_TOKEN_JWKS_FILE"), "the stack's environment names the local issuer's keys"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(LHL), "run", "gateway", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            ready = await wait_until_ready(f"http://127.0.0.1:{port}/health/ready", process)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                document = (await client.get("/openapi.json")).json()
                metrics = (await client.get("/metrics")).text
                unauthenticated = await client.get("/feed")
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log.read_text(encoding="utf-8")
    assert ready["status"] == "ready", ready
    assert "/events" in document["paths"]
    assert "lhl_gateway_events" in metrics
    assert unauthenticated.status_code == 401
    assert code == 0, output
    [registered] = keys.read(tmp_path / "keys" / "registry.json")
    assert registered.sources == ("/lhl/gateway",)
