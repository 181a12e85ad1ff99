"""Settings read from the environment, shared by every service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from runtime.kafka_access import KafkaAccess


class RuntimeSettings(BaseSettings):
    """What every service needs; a service subclasses it for its own settings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    service_name: str = Field(default="service", description="Name in logs, sources and consumer groups.")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:19092")
    kafka_username: str | None = Field(default=None, description="SASL/SCRAM-SHA-512 user; none: anonymous.")
    kafka_password: SecretStr | None = Field(default=None, description="Its password.")
    kafka_ssl_cafile: str | None = Field(default=None, description="CA file: connect over TLS (SASL_SSL).")
    database_url: str = Field(default="postgresql://127.0.0.1:15432/lhl", description="PostgreSQL, with the role.")
    db_schema: str | None = Field(default=None, description="PostgreSQL schema; defaults to the service name.")
    topic_prefix: str = Field(default="", description="Prefix for every topic, to isolate test runs.")
    topic_partitions: int = Field(default=3, ge=1)
    log_level: str = Field(default="INFO")
    log_format: Literal["auto", "json", "console"] = Field(default="auto")
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    max_record_tries: int = Field(
        default=5,
        ge=1,
        description="Tries of a record that fails while the database answers, before it is dead-lettered.",
    )
    check_processes: int | None = Field(
        default=None,
        ge=0,
        description="Processes that make a large batch's signature checks beside the event loop "
        "(runtime.check_processes): 0 makes them in threads; unset, one per core the service may use, at most 4.",
    )
    retention_hours: float = Field(
        default=192,
        gt=0,
        description="Inbox rows older than this are deleted. It must outlast the topics' "
        "retention (Kafka's default is 7 days), or a redelivery the broker still allows would act twice.",
    )
    retention_batch: int = Field(default=1000, ge=1, description="Most rows one retention statement deletes.")
    retention_max_batches: int = Field(default=100, ge=1, description="Most retention statements per table per run.")
    retention_interval_seconds: float = Field(default=3600.0, gt=0, description="Seconds between retention runs.")
    consume_max_records: int = Field(
        default=2000,
        ge=1,
        description="Most records one poll hands the pipeline. A catch-up's polls are this large (or as large as "
        "CONSUME_FETCH_BYTES per partition allows): each poll's batches are waited for together, so larger polls "
        "are fewer pauses (500 to 2,000: meetings 6 %, evaluations 10 % faster) for some 15-45 MiB more RSS.",
    )
    consume_poll_ms: int = Field(
        default=20, ge=1, description="How long a poll waits when no record has arrived (it returns at the first)."
    )
    consume_fetch_bytes: int = Field(
        default=1_048_576,
        ge=65_536,
        description="Most bytes fetched ahead per partition. Smaller keeps a catching-up consumer's memory flatter, "
        "at the cost of smaller batches.",
    )
    consume_fetch_wait_ms: int = Field(
        default=50,
        ge=1,
        le=500,
        description="Longest the broker holds a fetch with nothing new. Kafka's 500 ms let the audit's records wait "
        "about 0.6 s at times under a steady 300 events/s (p99 686 ms; 265 ms with 50).",
    )
    offset_commit_seconds: float = Field(default=0.2, gt=0, description="How often processed offsets are committed.")
    gc_tuning: bool = Field(
        default=True,
        description="After start, freeze the heap start built and collect the young less often (runtime.heap); "
        "off where several services share one process, as in the tests.",
    )
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """LHL_<SERVICE>_KAFKA_PASSWORD and the like override the plain names, so one environment (the launcher's
        `env`) carries each service's own credentials and the operator's."""
        service = cls.model_fields["service_name"].default
        own = EnvSettingsSource(settings_cls, env_prefix=f"LHL_{service.upper()}_", case_sensitive=False)
        return init_settings, own, env_settings, dotenv_settings, file_secret_settings

    @property
    def kafka(self) -> KafkaAccess:
        password = self.kafka_password.get_secret_value() if self.kafka_password else None
        return KafkaAccess(self.kafka_bootstrap_servers, self.kafka_username, password, self.kafka_ssl_cafile)

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
