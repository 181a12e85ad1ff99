"""The compose file, checked as data since no Docker engine runs here: what `docker compose up` needs to work."""

from __future__ import annotations

import ast
from typing import Any

import yaml

from deploy import lockfile
from lhl.services import HTTP_PORTS

COMPOSE: dict[str, Any] = yaml.safe_load((lockfile.ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (lockfile.ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_every_service_serves_health_and_metrics_outside_its_container() -> None:
    for name, port in HTTP_PORTS.items():
        environment = SERVICES[name]["environment"]
        assert environment["HTTP_HOST"] == "0.0.0.0", name
        assert int(environment["HTTP_PORT"]) == port, name
        assert f"127.0.0.1:{port}:{port}" in SERVICES[name]["ports"], name


def test_every_service_has_a_healthcheck_that_asks_readiness_with_the_images_python() -> None:
    for name in HTTP_PORTS:
        test = SERVICES[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        assert "/health/ready" in test[3], name
        assert "HTTP_PORT" in test[3], name
        ast.parse(test[3])  # the folded YAML must still be one valid Python program


def test_one_shot_steps_have_no_healthcheck_that_could_never_pass() -> None:
    assert SERVICES["kafka-acls"]["healthcheck"] == {"disable": True}


def test_every_image_names_a_tag() -> None:
    images = [spec["image"] for spec in SERVICES.values() if "image" in spec]
    assert images, "no service names an image"
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name, image
        assert tag not in ("", "latest"), image
        assert "/" not in tag, image


def test_the_broker_creates_no_topic_on_its_own() -> None:
    assert SERVICES["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_image_gives_every_volume_mount_point_to_the_service_user() -> None:
    mounts = {
        volume.split(":")[1]
        for spec in SERVICES.values()
        if spec.get("build")
        for volume in spec.get("volumes", [])
        if volume.split(":")[0] in COMPOSE["volumes"]
    }
    assert mounts == {"/var/lib/lhl/keys", "/var/lib/lhl/audit-checkpoints"}
    steps = " ".join(DOCKERFILE.replace("\\\n", " ").split())
    assert "--uid 10001" in steps
    for mount in mounts:
        assert mount in steps.split("mkdir -p ", 1)[1].split("&&", 1)[0], mount
    assert "chown -R app /var/lib/lhl" in steps
    assert steps.index("chown -R app /var/lib/lhl") < steps.index("USER app")
