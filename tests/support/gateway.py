"""Running the HTTP gateway in-process on a free port, and the tests' own token issuer that it trusts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts.reference import organisations
from lhl.token import LocalIssuer
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.support.infra import Infra
from tests.support.services import settings_for

PUBLISH = "lhl:events.publish"
READ = "lhl:events.read"


@cache
def issuer_for_tests() -> LocalIssuer:
    """An issuer of the tests' own, as Maskinporten is one the gateway does not control."""
    return LocalIssuer(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def number_of(organisation_id: str) -> str:
    found = next(o for o in organisations().organisations if o.id == organisation_id)
    assert found.organisation_number is not None
    return found.organisation_number


def token(organisation_id: str, *scopes: str, **claims: Any) -> str:
    return issuer_for_tests().mint(number_of(organisation_id), list(scopes or (PUBLISH, READ)), **claims)


def bearer(organisation_id: str, *scopes: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(organisation_id, *scopes, **claims)}"}


def gateway_settings(infra: Infra, run_id: str, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "token_jwks": json.dumps(issuer_for_tests().jwks()),
        "audit_schema": f"t{run_id}_audit",
    }
    values.update(overrides)
    return settings_for(GatewaySettings, infra, run_id, **values)


@dataclass(frozen=True)
class RunningGateway:
    url: str
    client: httpx.AsyncClient


@asynccontextmanager
async def serving(settings: GatewaySettings) -> AsyncIterator[RunningGateway]:
    """The gateway on 127.0.0.1 and a free port, through real HTTP, until the block ends."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()  # the start-up failed: raise why
                await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield RunningGateway(url, client)
    finally:
        server.should_exit = True
        await task
