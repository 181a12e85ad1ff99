"""The compose file, checked as data since no Docker engine runs here: what `docker compose up` needs to work."""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deploy import lockfile
from lhl.services import HTTP_PORTS

COMPOSE_FILE = lockfile.ROOT / "deploy" / "compose.yaml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
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


# `make compose-tools` (part of `make test`) puts the compose specification's schema and compose-go's loader here,
# both from the Go module pinned and hash-locked in tools/compose-spec.
SPEC_TOOLS = lockfile.ROOT / ".local" / "compose-spec"


def spec_tool(name: str) -> Path:
    path = SPEC_TOOLS / name
    if not path.is_file():
        reason = f"{path} is missing (`make compose-tools` fetches it from tools/compose-spec's lock)"
        # Under `make test` and CI a check that did not run must not pass as a skip.
        if os.environ.get("LHL_REQUIRE_INTEGRATION") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def spec_validator() -> jsonschema.protocols.Validator:
    schema_file = spec_tool("compose-spec.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def spec_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in spec_validator().iter_errors(document)
    ]


def broken(change: str) -> dict[str, Any]:
    document = copy.deepcopy(COMPOSE)
    if change == "unknown service key":
        document["services"]["meetings"]["helthcheck"] = document["services"]["meetings"].pop("healthcheck")
    elif change == "healthcheck of the wrong type":
        document["services"]["audit"]["healthcheck"] = "python -c 'ready'"
    elif change == "condition compose does not know":
        document["services"]["notifications"]["depends_on"]["postgres"]["condition"] = "service_ready"
    return document


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert spec_errors(COMPOSE) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("unknown service key", "helthcheck"),
        ("healthcheck of the wrong type", "services.audit.healthcheck"),
        ("condition compose does not know", "service_ready"),
    ],
)
def test_the_specification_refuses_a_broken_compose_file(change: str, named: str) -> None:
    errors = spec_errors(broken(change))
    assert any(named in error for error in errors), errors


def compose_check(path: Path) -> subprocess.CompletedProcess[str]:
    checker = spec_tool("compose-check")
    # compose-env writes the real passwords; any value shows the file interpolates once each variable is set.
    variables = set(re.findall(r"\$\{(\w+)", path.read_text(encoding="utf-8")))
    environment = {"PATH": os.environ.get("PATH", "")} | {name: "placeholder" for name in variables}
    return subprocess.run([checker, path], env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_compose_itself_loads_the_file_as_docker_compose_config_would() -> None:
    loaded = compose_check(COMPOSE_FILE)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == sorted(SERVICES)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("unknown service key", "services.meetings.helthcheck"),
        ("healthcheck of the wrong type", "services.audit.healthcheck must be a mapping"),
        ("dependency on a service that is not there", 'undefined service "kafka-acl"'),
    ],
)
def test_compose_itself_refuses_a_broken_file(change: str, named: str, tmp_path: Path) -> None:
    if change == "dependency on a service that is not there":
        # Valid for the schema; only the loader sees that nothing is called kafka-acl.
        document = copy.deepcopy(COMPOSE)
        document["services"]["meetings"]["depends_on"]["kafka-acl"] = {"condition": "service_started"}
        assert spec_errors(document) == []
    else:
        document = broken(change)
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    loaded = compose_check(path)
    assert loaded.returncode == 1, change
    assert named in loaded.stderr, loaded.stderr
