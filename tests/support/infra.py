"""Where the real Kafka broker and PostgreSQL come from: the environment (`deploy.stack env`), or our own launcher.

Either way the environment ends up holding the launcher's credentials: the operator's under the plain names
(KAFKA_USERNAME, DATABASE_URL), each service's under LHL_<SERVICE>_..., which the services' settings read."""

from __future__ import annotations

import os
from dataclasses import dataclass

from runtime.kafka_access import KafkaAccess

SERVICES = ("meetings", "evaluations", "notifications", "audit", "gateway")


@dataclass(frozen=True)
class Infra:
    kafka: KafkaAccess
    """The operator's access: topic and ACL administration, reading every topic, writing the ingress topics."""
    database_url: str
    """The operator's database role: owns the database, member of the meetings, evaluations and notifications roles."""
    origin: str

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    def service_kafka(self, service: str) -> KafkaAccess:
        """A service's own principal, for a test that plays that service upstream of the one under test."""
        prefix = f"LHL_{service.upper()}_KAFKA_"
        return self.kafka.as_user(os.environ[prefix + "USERNAME"], os.environ[prefix + "PASSWORD"])

    def service_database_url(self, service: str) -> str:
        return os.environ[f"LHL_{service.upper()}_DATABASE_URL"]

    def tls_kafka(self) -> KafkaAccess:
        """The operator's access over TLS, trusting the launcher's local CA."""
        return KafkaAccess(
            os.environ["LHL_KAFKA_TLS_BOOTSTRAP_SERVERS"],
            self.kafka.username,
            self.kafka.password,
            os.environ["LHL_KAFKA_SSL_CAFILE"],
        )


def _from_environment(origin: str) -> Infra:
    return Infra(
        KafkaAccess(
            os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            os.environ.get("KAFKA_USERNAME"),
            os.environ.get("KAFKA_PASSWORD"),
        ),
        os.environ["DATABASE_URL"],
        origin,
    )


def provide() -> tuple[Infra, list[object]]:
    """The infrastructure for the integration tests, and what to stop afterwards (nothing: the stack stays up)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL"):
        return _from_environment("environment"), []
    from deploy import stack

    # Into the environment, so every service's settings find their own credentials as under `make test`.
    os.environ.update(stack.up().as_env())
    return _from_environment("local launcher"), []
