"""Running `lhl` as a user does, in its own process, and waiting for its health endpoint."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

LHL = Path(sys.executable).parent / "lhl"
"""The console script `make run` calls, from the environment the tests run in."""


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
