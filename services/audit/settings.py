"""Settings of the audit service: its restricted database role, batches, checkpoints and signing keys."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field

from runtime.settings import RuntimeSettings


class AuditSettings(RuntimeSettings):
    service_name: str = "audit"
    admin_database_url: str | None = Field(
        default=None,
        description="DSN of the audit schema's owner (not a superuser), used only at start-up to migrate and to grant "
        "the writer role its rights; defaults to DATABASE_URL.",
    )
    audit_writer_role: str = Field(
        default="lhl_audit_writer",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Database role the service connects as; it may only INSERT and SELECT the audit log.",
    )
    audit_writer_password: str = Field(
        default="", description="Its password (the launcher's AUDIT_WRITER_PASSWORD); it never has a default."
    )
    audit_reader_roles: tuple[str, ...] = Field(
        default=("lhl_gateway",),
        description="Database roles given SELECT on the log, and nothing else (the gateway's receipts and feed).",
    )
    audit_batch_max_records: int = Field(default=1000, ge=1, description="Most records recorded per transaction.")
    audit_checkpoint_dir: str = Field(default=".local/audit-checkpoints", description="Folder of signed checkpoints.")
    audit_checkpoint_interval_seconds: float = Field(
        default=300.0, ge=0, description="Seconds between periodic checkpoints; 0 turns them off."
    )
    audit_first_checkpoint_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds after start (or, on an empty log, after its first records) within which the first "
        "periodic checkpoint is written; then every audit_checkpoint_interval_seconds.",
    )
    audit_signing_key: str | None = Field(
        default=None, description="Ed25519 private key: path to a PKCS#8 PEM file, or base64 of the raw 32 bytes."
    )
    audit_verify_key: str | None = Field(
        default=None,
        description="Ed25519 public key: path to a PEM file, or base64 of the raw 32 bytes; "
        "defaults to the signing key's public half.",
    )

    @property
    def owner_database_url(self) -> str:
        return self.admin_database_url or self.database_url

    @property
    def writer_database_url(self) -> str:
        """The application DSN with the writer role's credentials in place of the owner's."""
        parts = urlsplit(self.database_url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        credentials = f"{quote(self.audit_writer_role, safe='')}:{quote(self.audit_writer_password, safe='')}"
        return urlunsplit((parts.scheme, f"{credentials}@{host}{port}", parts.path, parts.query, parts.fragment))
