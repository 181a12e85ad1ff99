"""The services of the system and where their app factories live, for the CLI and the document generators."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Final

from faststream import FastStream

from contracts.reference import ReferenceData
from runtime.admission import Check

SERVICES: Final = ("meetings", "evaluations", "notifications", "audit")
GATEWAY: Final = "gateway"
"""The HTTP gateway: an ASGI application (FastAPI under uvicorn), not a FastStream service, so not in SERVICES."""
RUNNABLE: Final = (*SERVICES, GATEWAY)
HTTP_PORTS: Final = {"meetings": 8081, "evaluations": 8082, "notifications": 8083, "audit": 8084, GATEWAY: 8085}
"""Where `lhl run` serves each service's health and metrics (and the gateway its API)."""


LOCAL_AUDIT_KEYS = Path(".local/audit-keys")
LOCAL_AUDIT_CHECKPOINTS = Path(".local/audit-checkpoints")


def local_audit_keys() -> dict[str, str]:
    """For a local run: a checkpoint signing key made once under .local, unless the environment names one."""
    if "AUDIT_SIGNING_KEY" in os.environ:
        return {}
    from services.audit import keys

    signing = LOCAL_AUDIT_KEYS / keys.SIGNING_FILE
    if not signing.exists():
        keys.generate(LOCAL_AUDIT_KEYS)
    return {
        "AUDIT_SIGNING_KEY": str(signing),
        "AUDIT_CHECKPOINT_DIR": os.environ.get("AUDIT_CHECKPOINT_DIR", str(LOCAL_AUDIT_CHECKPOINTS)),
    }


def admission(deps: ReferenceData) -> dict[str, Check]:
    """Event type -> the check its owning service runs on it against the reference data, from every service that
    has such checks (`services/<name>/checks.py`, `admission`): what `lhl publish --dry-run` runs too."""
    found: dict[str, Check] = {}
    for service in available():
        try:
            module = importlib.import_module(f"services.{service}.checks")
        except ModuleNotFoundError:
            continue
        owned = module.admission(deps)
        if overlap := found.keys() & owned.keys():
            raise RuntimeError(f"{service} checks {sorted(overlap)}, which another service checks too")
        found.update(owned)
    return found


def local_service_keys(chosen: list[str]) -> None:
    """Each service signs what it emits: make and register a key for each that has none yet (in KEYS_DIR)."""
    from runtime import keystore
    from runtime.clock import SystemClock
    from runtime.settings import RuntimeSettings

    settings = RuntimeSettings()
    for service in (s for s in chosen if s != "audit"):  # the audit emits no events
        keystore.ensure_service_key(Path(settings.keys_dir), settings.key_registry_path, service, SystemClock().now())


def factory_path(service: str) -> str:
    return f"services.{service}.app:create_app"


def command(service: str, port: int) -> list[str]:
    """How `lhl run` starts a service: FastStream's runner, or uvicorn for the gateway (same factory convention)."""
    bin_dir = os.path.dirname(sys.executable)
    if service == GATEWAY:
        uvicorn = os.path.join(bin_dir, "uvicorn")
        return [
            uvicorn,
            factory_path(service),
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
    return [os.path.join(bin_dir, "faststream"), "run", factory_path(service), "--factory"]


def create_app(service: str) -> FastStream:
    module = importlib.import_module(f"services.{service}.app")
    app: FastStream = module.create_app()
    return app


def runnable() -> list[str]:
    """What `lhl run` starts by default: the services of this checkout, and the gateway when it is here."""
    try:
        importlib.import_module(f"services.{GATEWAY}.app")
    except ModuleNotFoundError:
        return available()
    return [*available(), GATEWAY]


def available() -> list[str]:
    """Services whose package exists in this checkout."""
    found = []
    for service in SERVICES:
        try:
            importlib.import_module(f"services.{service}.app")
        except ModuleNotFoundError:
            continue
        found.append(service)
    return found
