"""Settings of the gateway: where its callers' tokens come from and how much one request may carry."""

from __future__ import annotations

from pydantic import Field

from runtime.settings import RuntimeSettings

PUBLISH_SCOPE = "lhl:events.publish"
READ_SCOPE = "lhl:events.read"
SUBSCRIPTIONS_SCOPE = "lhl:subscriptions"


class GatewaySettings(RuntimeSettings):
    service_name: str = "gateway"
    token_issuer: str = Field(
        default="http://127.0.0.1/lhl-local-issuer",
        description="The `iss` every bearer token must carry, e.g. https://maskinporten.no/ in production.",
    )
    token_audience: str = Field(
        default="lhl-gateway", description="The `aud` every bearer token must carry: this gateway's resource."
    )
    token_jwks_file: str | None = Field(
        default=None, description="The issuer's public keys (a JWKS document), as a file; or token_jwks inline."
    )
    token_jwks: str | None = Field(default=None, description="The issuer's JWKS document as inline JSON.")
    token_algorithms: tuple[str, ...] = Field(
        default=("RS256", "ES256"), description="Signature algorithms accepted; never `none`, never an HMAC."
    )
    token_leeway_seconds: float = Field(default=30.0, ge=0, le=300, description="Clock skew allowed on exp/nbf/iat.")
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="Largest request body accepted.")
    max_batch_events: int = Field(default=100, gt=0, description="Most events in one batch.")
    audit_schema: str = Field(
        default="audit",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The audit trail's schema, read (SELECT only) for receipts and the feed.",
    )
    feed_max_limit: int = Field(default=500, gt=0, description="Most events one page of the feed returns.")
    send_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a publish waits for the broker's acknowledgement before a 503."
    )
    notifications_schema: str = Field(
        default="notifications",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The notifications service's schema, whose HTTP subscriptions the gateway may request, remove "
        "and read (column grants the notifications service makes at start).",
    )
    webhook_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts a subscription's endpoint may name although they are, or resolve to, loopback, private or "
        "link-local addresses; the same variable (WEBHOOK_ALLOWED_HOSTS) as the notifications service's, for tests "
        "and local development only.",
    )
    max_subscriptions: int = Field(default=100, gt=0, description="Most subscriptions one organisation may hold.")
