"""Settings read from the environment, shared by every service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    """What every service needs; a service subclasses it for its own settings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    service_name: str = Field(default="service", description="Name in logs, sources and consumer groups.")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:19092")
    database_url: str = Field(default="postgresql://lhl:lhl@127.0.0.1:15432/lhl")
    db_schema: str | None = Field(default=None, description="PostgreSQL schema; defaults to the service name.")
    topic_prefix: str = Field(default="", description="Prefix for every topic, to isolate test runs.")
    topic_partitions: int = Field(default=3, ge=1)
    log_level: str = Field(default="INFO")
    log_format: Literal["auto", "json", "console"] = Field(default="auto")
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    offset_commit_seconds: float = Field(default=0.2, gt=0, description="How often processed offsets are committed.")
    clock: Literal["system", "fast"] = Field(default="system", description="fast runs time at clock_speed.")
    clock_start: AwareDatetime | None = Field(default=None, description="Start of the fast clock.")
    clock_speed: float = Field(default=1.0, gt=0, description="Simulated seconds per real second (fast clock).")
    http_host: str = Field(default="127.0.0.1", description="Where health and metrics are served.")
    http_port: int | None = Field(default=None, ge=0, description="Health/metrics port; 0 picks one, None: off.")
    agreements_dir: str | None = Field(default=None, description="Folder of agreement definitions (JSON).")
    keys_dir: str = Field(
        default=".local/keys", description="The installation's keys: each service's signing key and registry.json."
    )
    signing_key: str | None = Field(
        default=None, description="This service's Ed25519 private key (PKCS#8 PEM); <keys_dir>/<service_name>.pem."
    )
    key_registry: str | None = Field(
        default=None, description="The installation's registry of public keys; <keys_dir>/registry.json."
    )

    @property
    def schema_name(self) -> str:
        return self.db_schema or self.service_name

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def group_id(self) -> str:
        return f"{self.topic_prefix}lhl-{self.service_name}"

    @property
    def event_source(self) -> str:
        return f"/lhl/{self.service_name}"

    @property
    def signing_key_path(self) -> Path:
        return Path(self.signing_key) if self.signing_key else Path(self.keys_dir) / f"{self.service_name}.pem"

    @property
    def key_registry_path(self) -> Path:
        return Path(self.key_registry) if self.key_registry else Path(self.keys_dir) / "registry.json"
