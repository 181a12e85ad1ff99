"""Where the real Kafka broker and PostgreSQL come from: the environment, testcontainers, or our own launcher."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap_servers: str
    database_url: str
    admin_database_url: str
    origin: str


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def provide() -> tuple[Infra, list[object]]:
    """The infrastructure for the integration tests, and what to stop afterwards."""
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database = os.environ.get("DATABASE_URL")
    if kafka and database:
        admin = os.environ.get("ADMIN_DATABASE_URL", database)
        return Infra(kafka, database, admin, "environment"), []
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        kafka_container = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        postgres_container = PostgresContainer("postgres:16", username="postgres", password="postgres", dbname="lhl")
        kafka_container.start()
        postgres_container.start()
        url = postgres_container.get_connection_url(driver=None)
        return Infra(kafka_container.get_bootstrap_server(), url, url, "testcontainers"), [
            kafka_container,
            postgres_container,
        ]
    from deploy import stack

    info = stack.up()
    return Infra(info.kafka_bootstrap_servers, info.database_url, info.admin_database_url, "local launcher"), []
