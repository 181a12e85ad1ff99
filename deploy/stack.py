"""Start, stop and inspect the local Kafka + PostgreSQL stack without Docker (standard library only)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy import acl, broker, credentials, database, issuer, system, tls
from deploy.system import HOST, StackError

__all__ = ["StackError", "StackInfo", "down", "info", "pids", "reset", "status", "up"]

DEFAULT_KAFKA_PORT = 19092
DEFAULT_KAFKA_CONTROLLER_PORT = 19093
DEFAULT_PG_PORT = 15432
TLS_PORT_OFFSET = 2
"""The TLS listener's port defaults to the client port plus this (19094), unless LHL_KAFKA_TLS_PORT names one."""


@dataclass(frozen=True)
class ServiceAccess:
    """One service's own broker principal and database role."""

    kafka_username: str
    kafka_password: str
    database_url: str


@dataclass(frozen=True)
class StackInfo:
    """Connection settings for the running stack, as the services and tests read them from the environment.

    The operator's credentials are the plain KAFKA_* and DATABASE_URL; each service's own override them under
    LHL_<SERVICE>_ (see runtime.settings). No superuser credential is ever part of it."""

    kafka_bootstrap_servers: str
    kafka_tls_bootstrap_servers: str
    kafka_ssl_cafile: str
    kafka_username: str
    kafka_password: str
    database_url: str
    services: dict[str, ServiceAccess]
    audit_writer_password: str
    issuer_key: str
    """The local token issuer's private key, which `lhl token` signs with."""
    issuer_jwks: str
    """Its public keys, which the gateway trusts (LHL_GATEWAY_TOKEN_JWKS_FILE)."""

    def as_env(self) -> dict[str, str]:
        """Return the settings as environment variables."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "KAFKA_USERNAME": self.kafka_username,
            "KAFKA_PASSWORD": self.kafka_password,
            "LHL_KAFKA_TLS_BOOTSTRAP_SERVERS": self.kafka_tls_bootstrap_servers,
            "LHL_KAFKA_SSL_CAFILE": self.kafka_ssl_cafile,
            "DATABASE_URL": self.database_url,
        }
        for service, access in self.services.items():
            env[f"LHL_{service.upper()}_KAFKA_USERNAME"] = access.kafka_username
            env[f"LHL_{service.upper()}_KAFKA_PASSWORD"] = access.kafka_password
            env[f"LHL_{service.upper()}_DATABASE_URL"] = access.database_url
        env["AUDIT_WRITER_PASSWORD"] = self.audit_writer_password
        env["LHL_ISSUER_KEY"] = self.issuer_key
        env["LHL_GATEWAY_TOKEN_JWKS_FILE"] = self.issuer_jwks
        return env


@dataclass(frozen=True)
class Ports:
    """TCP ports of one stack instance."""

    kafka: int
    kafka_tls: int
    kafka_controller: int
    postgres: int


def state_dir() -> Path:
    """The state folder the launcher uses by default ($LHL_STATE_DIR or <repo>/.local)."""
    return _resolve_state_dir(None)


def broker_password(user: str, state_dir: str | os.PathLike[str] | None = None) -> str:
    """The password of one of the policy's broker principals (a publishing system's, a service's, the operator's);
    never the broker's own or the controller's, which are super users."""
    if user in (broker.BROKER_USER, broker.CONTROLLER_USER):
        raise StackError(f"{user} is a super user of the broker; its password stays in the state folder")
    known = credentials.read(_resolve_state_dir(state_dir), "kafka")
    if user not in known:
        raise StackError(f"no broker principal {user!r}; `lhl acl show` lists them")
    return known[user]


COMPOSE_CLUSTER_ID = "3H043d-80iRwWAvTPPtSeg"


def compose_files(state_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Write deploy/.env (the compose stack's passwords, made once in the state folder like the launcher's) and
    deploy/postgres/init.generated.sql (the same roles and schemas the launcher provisions); both git-ignored."""
    state = _resolve_state_dir(state_dir)
    policy = acl.load_policy()
    kafka = broker.passwords(state, policy)
    postgres = database.passwords(state)
    variables = {
        "LHL_KAFKA_BROKER_PASSWORD": kafka[broker.BROKER_USER],
        "LHL_KAFKA_CONTROLLER_PASSWORD": kafka[broker.CONTROLLER_USER],
        "LHL_KAFKA_OPERATOR_PASSWORD": kafka[broker.OPERATOR_USER],
        # Only for the image's first start; the init script removes it, so the superuser has no password at all.
        "LHL_POSTGRES_INIT_PASSWORD": credentials.ensure(state, "compose", ["postgres-init"])["postgres-init"],
        "LHL_OPERATOR_DB_PASSWORD": postgres[database.APP_ROLE],
        "AUDIT_WRITER_PASSWORD": postgres[database.AUDIT_WRITER_ROLE],
        # Every principal's SCRAM credential, as `kafka-storage format --add-scram` arguments.
        "LHL_KAFKA_SCRAM_USERS": " ".join(
            f"--add-scram SCRAM-SHA-512=[name={user},password={kafka[user]}]" for user in broker.scram_users(policy)
        ),
    }
    for service in SERVICES:
        variables[f"LHL_{service.upper()}_KAFKA_PASSWORD"] = kafka[f"svc-{service}"]
        variables[f"LHL_{service.upper()}_DB_PASSWORD"] = postgres[database.service_role(service)]
    deploy = system.checkout() / "deploy"
    # The gateway trusts the local issuer's public keys in compose too (`lhl token` mints with its private key).
    (deploy / "issuer-jwks.generated.json").write_text(issuer.ensure(state).read_text())
    env_file, init_file = deploy / ".env", deploy / "postgres" / "init.generated.sql"
    # The init script must be readable by the container's postgres user, so its folder keeps other host users out.
    init_file.parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(init_file.parent, 0o700)
    for path, text, mode in (
        (env_file, "".join(f"{key}='{value}'\n" for key, value in variables.items()), 0o600),
        (init_file, database.provision_sql(postgres), 0o644),
    ):
        path.touch(mode=0o600)
        os.chmod(path, 0o600)
        path.write_text(text)
        os.chmod(path, mode)
    return env_file, init_file


def rotate(name: str, state_dir: str | os.PathLike[str] | None = None) -> None:
    """Give a broker principal or a database role a new password, on the running server and in the state folder."""
    state = _resolve_state_dir(state_dir)
    with system.locked(state):
        if name in database.login_roles():
            database.rotate(state, name)
            return
        port = broker.listener_port(broker.kafka_paths(state).properties, broker.CLIENT_LISTENER)
        if broker.broker_pid(broker.kafka_paths(state)) is None or port is None:
            raise StackError("kafka: not running; `up` first")
        broker.rotate(state, port, name)


def _resolve_state_dir(state_dir: str | os.PathLike[str] | None) -> Path:
    if state_dir is None:
        state_dir = os.environ.get("LHL_STATE_DIR") or system.checkout() / ".local"
    return Path(state_dir).expanduser().resolve()


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise StackError(f"{name}={port} is out of range")
    return port


def _requested_ports(kafka_port: int | None, kafka_controller_port: int | None, pg_port: int | None) -> Ports:
    kafka = kafka_port or _env_port("LHL_KAFKA_PORT", DEFAULT_KAFKA_PORT)
    return Ports(
        kafka=kafka,
        kafka_tls=_env_port("LHL_KAFKA_TLS_PORT", kafka + TLS_PORT_OFFSET),
        kafka_controller=kafka_controller_port or _env_port("LHL_KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT),
        postgres=pg_port or _env_port("LHL_PG_PORT", DEFAULT_PG_PORT),
    )


SERVICES = database.SERVICE_SCHEMAS


def _info(state: Path, kafka_port: int, kafka_tls_port: int, pg_port: int) -> StackInfo:
    kafka = credentials.read(state, "kafka")
    postgres = credentials.read(state, "postgres")
    wanted = [broker.OPERATOR_USER, *(f"svc-{s}" for s in SERVICES)]
    roles = database.login_roles()
    if any(user not in kafka for user in wanted) or any(role not in postgres for role in roles):
        raise StackError(f"credentials missing in {credentials.folder(state)}; run `python3 -m deploy.stack up`")

    def db(role: str) -> str:
        return database.url(pg_port, role, postgres[role])

    return StackInfo(
        kafka_bootstrap_servers=f"{HOST}:{kafka_port}",
        kafka_tls_bootstrap_servers=f"{HOST}:{kafka_tls_port}",
        kafka_ssl_cafile=str(tls.tls_files(state).ca),
        kafka_username=broker.OPERATOR_USER,
        kafka_password=kafka[broker.OPERATOR_USER],
        database_url=db(database.APP_ROLE),
        services={
            service: ServiceAccess(
                kafka_username=f"svc-{service}",
                kafka_password=kafka[f"svc-{service}"],
                database_url=db(database.service_role(service)),
            )
            for service in SERVICES
        },
        audit_writer_password=postgres[database.AUDIT_WRITER_ROLE],
        issuer_key=str(issuer.key_file(state)),
        issuer_jwks=str(issuer.jwks_file(state)),
    )


def up(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    kafka_port: int | None = None,
    kafka_controller_port: int | None = None,
    pg_port: int | None = None,
) -> StackInfo:
    """Start Kafka and PostgreSQL unless running, wait until both answer, and return how to reach them."""
    state = _resolve_state_dir(state_dir)
    ports = _requested_ports(kafka_port, kafka_controller_port, pg_port)
    with system.locked(state):
        running_kafka_port = broker.up(state, ports.kafka, ports.kafka_tls, ports.kafka_controller)
        running_pg_port = database.up(state, ports.postgres)
        issuer.ensure(state)
    tls_port = broker.listener_port(broker.kafka_paths(state).properties, broker.TLS_LISTENER) or ports.kafka_tls
    return _info(state, running_kafka_port, tls_port, running_pg_port)


def down(state_dir: str | os.PathLike[str] | None = None) -> None:
    """Stop both parts and every process they started; a no-op when nothing runs."""
    state = _resolve_state_dir(state_dir)
    if not state.is_dir():
        system.log("stack: nothing to stop")
        return
    with system.locked(state):
        errors = []
        for stop in (broker.down, database.down):
            try:
                stop(state)
            except StackError as exc:
                errors.append(str(exc))
        if errors:
            raise StackError("\n".join(errors))


def reset(state_dir: str | os.PathLike[str] | None = None) -> None:
    """Stop the stack and delete its data; the downloaded Kafka jars are a cache and stay."""
    state = _resolve_state_dir(state_dir)
    down(state)
    if not state.is_dir():
        return
    kafka = broker.kafka_paths(state)
    keep = {state / ".lock", kafka.base, kafka.libs, kafka.libs_hash}
    with system.locked(state):
        database.delete_cluster(state)
        for child in [*state.iterdir(), *(kafka.base.iterdir() if kafka.base.is_dir() else [])]:
            if child in keep:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    system.log(f"stack: deleted the data in {state} (kept the jar cache {kafka.libs})")


def pids(state_dir: str | os.PathLike[str] | None = None) -> dict[str, int | None]:
    """Return the pid of the Kafka JVM and of the postmaster, or None for a part that is not running."""
    state = _resolve_state_dir(state_dir)
    return {
        "kafka": broker.broker_pid(broker.kafka_paths(state)),
        "postgres": database.postmaster_pid(database.cluster_paths(state)),
    }


def info(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    kafka_port: int | None = None,
    pg_port: int | None = None,
) -> StackInfo:
    """Return connection settings: those of the running parts, else those the next `up` would use."""
    state = _resolve_state_dir(state_dir)
    ports = _requested_ports(kafka_port, None, pg_port)
    running = pids(state)
    kafka, kafka_tls = ports.kafka, ports.kafka_tls
    if running["kafka"] is not None:
        properties = broker.kafka_paths(state).properties
        kafka = broker.listener_port(properties, broker.CLIENT_LISTENER) or kafka
        kafka_tls = broker.listener_port(properties, broker.TLS_LISTENER) or kafka_tls
    postgres = ports.postgres
    if running["postgres"] is not None:
        postgres = database.configured_port(database.cluster_paths(state)) or postgres
    return _info(state, kafka, kafka_tls, postgres)


def _describe(state: Path) -> dict[str, tuple[bool, str]]:
    running = pids(state)
    pg_paths = database.cluster_paths(state)
    pg_port = database.configured_port(pg_paths) or _requested_ports(None, None, None).postgres
    result: dict[str, tuple[bool, str]] = {}

    kafka_pid = running["kafka"]
    if kafka_pid is None:  # a stack never started has no credentials to read its port from: it is simply down
        result["kafka"] = (False, "down")
    else:
        kafka_port = int(info(state).kafka_bootstrap_servers.rsplit(":", 1)[1])
        if broker.ready(kafka_port, broker.login(state, broker.BROKER_USER)):
            result["kafka"] = (True, f"up (pid {kafka_pid}, {HOST}:{kafka_port})")
        else:
            result["kafka"] = (False, f"pid {kafka_pid} alive but not answering on {HOST}:{kafka_port}")

    pg_pid = running["postgres"]
    if pg_pid is None:
        result["postgres"] = (False, "down")
    elif database.ready(database.find_bin_dir(), pg_port):
        result["postgres"] = (True, f"up (pid {pg_pid}, {HOST}:{pg_port}, data {pg_paths.data})")
    else:
        result["postgres"] = (False, f"pid {pg_pid} alive but not answering on {HOST}:{pg_port}")
    return result


def status(state_dir: str | os.PathLike[str] | None = None) -> dict[str, bool]:
    """Tell for each part whether it runs and answers requests."""
    return {part: ok for part, (ok, _) in _describe(_resolve_state_dir(state_dir)).items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line interface and return its exit status."""
    parser = argparse.ArgumentParser(
        prog="python3 -m deploy.stack",
        description="Local Kafka (KRaft) + PostgreSQL for development and tests, without Docker.",
    )
    parser.add_argument(
        "command", choices=["up", "down", "status", "env", "reset", "credential", "rotate", "compose-env"]
    )
    parser.add_argument(
        "user",
        nargs="?",
        help="for `credential`: a broker principal, e.g. org-sf-vestland; for `rotate`: a broker principal or a "
        "database role, e.g. svc-meetings or lhl_meetings",
    )
    parser.add_argument("--state-dir", help="state folder (default: $LHL_STATE_DIR or <repo>/.local)")
    args = parser.parse_args(argv)
    state_dir: str | None = args.state_dir
    try:
        if args.command == "up":
            started = time.monotonic()
            up(state_dir)
            elapsed = time.monotonic() - started
            system.log(f'stack: up ({elapsed:.1f} s); `eval "$(python3 -m deploy.stack env)"` to use it')
        elif args.command == "down":
            down(state_dir)
        elif args.command == "reset":
            reset(state_dir)
        elif args.command == "compose-env":
            for path in compose_files(state_dir):
                system.log(f"stack: wrote {path} (git-ignored; it holds passwords)")
        elif args.command == "rotate":
            if not args.user:
                parser.error("rotate needs a principal or role, e.g. svc-meetings or lhl_meetings")
            rotate(args.user, state_dir)
        elif args.command == "credential":
            if not args.user:
                parser.error("credential needs the principal's name, e.g. org-sf-vestland")
            print(broker_password(args.user, state_dir))
        elif args.command == "env":
            for key, value in info(state_dir).as_env().items():
                print(f"export {key}={shlex.quote(value)}")
        else:
            described = _describe(_resolve_state_dir(state_dir))
            for part, (_, text) in described.items():
                print(f"{part}: {text}")
            return 0 if all(ok for ok, _ in described.values()) else 1
    except StackError as exc:
        system.log(f"stack: error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
