"""The local Kafka broker: jars from Maven, KRaft storage format, a detached JVM and a protocol-level ready check."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from deploy import acl, credentials, system, tls
from deploy.kafka_wire import Connection, KafkaError, Login

KAFKA_READY_TIMEOUT = 90.0

CLIENT_LISTENER = "CLIENT"
TLS_LISTENER = "CLIENT_TLS"
BROKER_USER = "lhl-broker"
"""The broker's own principal: inter-broker traffic, and the launcher's ACL bootstrap (a super user)."""
CONTROLLER_USER = "lhl-controller"
"""The controller listener's SASL/PLAIN user (a super user); SCRAM cannot serve it, its credentials being metadata."""
OPERATOR_USER = "lhl-operator"


@dataclass(frozen=True)
class KafkaPaths:
    """Files and folders of one broker under `<state>/kafka`."""

    base: Path

    @property
    def libs(self) -> Path:
        return self.base / "libs"

    @property
    def libs_hash(self) -> Path:
        return self.base / "libs.sha256"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.logs / "kafka.out"

    @property
    def properties(self) -> Path:
        return self.base / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.base / "kafka.pid"

    @property
    def formatted_controller_port(self) -> Path:
        return self.base / "controller.port"

    @property
    def formatted_users(self) -> Path:
        """The SCRAM users written into the metadata log at format time, one per line."""
        return self.base / "scram.users"


def kafka_paths(state: Path) -> KafkaPaths:
    """Where the broker of a state folder keeps its jars, data, logs and pid."""
    return KafkaPaths(state / "kafka")


def _config_file(name: str) -> Path:
    return system.checkout() / "deploy" / "kafka" / name


def _java() -> str:
    java = system.require_tool("kafka", "java", "openjdk-17-jre-headless")
    version = system.run([java, "-version"], what="java -version", timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):
            major = int(match.group(2))
        if major < 17:
            raise system.StackError(
                f"kafka: {java} is Java {major}; Kafka 4 needs Java 17 or newer "
                "(e.g. `sudo apt-get install -y openjdk-17-jre-headless`)"
            )
    return java


def _pom_hash() -> str:
    return hashlib.sha256(_config_file("pom.xml").read_bytes()).hexdigest()


def _fetch_jars(paths: KafkaPaths) -> None:
    """Download the broker jars with Maven once; refetch only when the pom changes."""
    wanted = _pom_hash()
    if (
        paths.libs.is_dir()
        and any(paths.libs.glob("kafka_*.jar"))
        and paths.libs_hash.is_file()
        and paths.libs_hash.read_text().strip() == wanted
    ):
        return
    mvn = system.require_tool("kafka", "mvn", "maven")
    system.log("kafka: fetching jars (mvn dependency:copy-dependencies)")
    started = time.monotonic()
    staging = paths.base / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    paths.base.mkdir(parents=True, exist_ok=True)
    system.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(_config_file("pom.xml")),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        what="kafka: mvn dependency:copy-dependencies",
        cwd=_config_file("."),
        timeout=900,
    )
    if not any(staging.glob("kafka_*.jar")):
        raise system.StackError(f"kafka: maven finished but {staging} holds no kafka_*.jar")
    # Swap the folder only once the download is complete, so an interrupted fetch never looks cached.
    shutil.rmtree(paths.libs, ignore_errors=True)
    staging.rename(paths.libs)
    paths.libs_hash.write_text(wanted + "\n")
    jars = len(list(paths.libs.glob("*.jar")))
    system.log(f"kafka: {jars} jars in {paths.libs} ({time.monotonic() - started:.1f} s)")


def _jaas(module: str, username: str, password: str, *extra: str) -> str:
    options = " ".join([f'username="{username}"', f'password="{password}"', *extra])
    return f"{module} required {options};"


def _render_properties(
    ports: tuple[int, int, int], data_dir: Path, passwords: dict[str, str], tls_files: tls.TlsFiles
) -> str:
    port, tls_port, controller_port = ports
    listeners = (
        f"{CLIENT_LISTENER}://{system.HOST}:{port},{TLS_LISTENER}://{system.HOST}:{tls_port},"
        f"CONTROLLER://{system.HOST}:{controller_port}"
    )
    scram = _jaas("org.apache.kafka.common.security.scram.ScramLoginModule", BROKER_USER, passwords[BROKER_USER])
    controller_password = passwords[CONTROLLER_USER]
    plain = _jaas(
        "org.apache.kafka.common.security.plain.PlainLoginModule",
        CONTROLLER_USER,
        controller_password,
        f'user_{CONTROLLER_USER}="{controller_password}"',
    )
    overrides = {
        "listeners": listeners,
        "advertised.listeners": listeners,
        "controller.quorum.bootstrap.servers": f"{system.HOST}:{controller_port}",
        "log.dirs": str(data_dir),
        f"listener.name.{CLIENT_LISTENER.lower()}.scram-sha-512.sasl.jaas.config": scram,
        f"listener.name.{TLS_LISTENER.lower()}.scram-sha-512.sasl.jaas.config": scram,
        "listener.name.controller.plain.sasl.jaas.config": plain,
        "ssl.keystore.location": str(tls_files.keystore),
    }
    lines = [
        "# Generated by deploy/stack.py from deploy/kafka/server.properties; edits here are overwritten.",
        "# It holds the broker's passwords: readable by its owner only.",
    ]
    seen: set[str] = set()
    for line in _config_file("server.properties").read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and key in overrides:
            lines.append(f"{key}={overrides[key]}")
            seen.add(key)
        else:
            lines.append(line)
    lines.extend(f"{key}={value}" for key, value in overrides.items() if key not in seen)
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(text)


def scram_users(policy: acl.Policy) -> list[str]:
    """Every principal that logs in with SCRAM: the broker itself and each of the policy's."""
    return sorted({BROKER_USER, *policy.principals})


def passwords(state: Path, policy: acl.Policy) -> dict[str, str]:
    """Every Kafka password of this installation, made on first use."""
    return credentials.ensure(state, "kafka", [*scram_users(policy), CONTROLLER_USER])


def login(state: Path, user: str, cafile: str | None = None) -> Login:
    """How to log in as one of this installation's principals."""
    known = credentials.read(state, "kafka")
    if user not in known:
        raise system.StackError(f"kafka: no credentials for {user} in {credentials.folder(state)}; run `up` first")
    return Login(user, known[user], cafile)


def listener_port(properties: Path, listener: str) -> int | None:
    """Read the port of a listener from the generated properties of the (running) broker."""
    try:
        text = properties.read_text()
    except OSError:
        return None
    match = re.search(rf"^listeners=.*\b{listener}://[^,:]*:(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _new_cluster_id() -> str:
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        # An id starting with '-' would be parsed by the storage tool as an option.
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_command(java: str, paths: KafkaPaths, main: str, *args: str) -> list[str]:
    return [
        java,
        "-Xms256m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={_config_file('log4j2.yaml')}",
        f"-Dkafka.logs.dir={paths.logs}",
        "-cp",
        f"{paths.libs}/*",
        main,
        *args,
    ]


def _format_storage(java: str, paths: KafkaPaths, controller_port: int, users: dict[str, str]) -> None:
    if (paths.data / "meta.properties").is_file():
        formatted = set(paths.formatted_users.read_text().split()) if paths.formatted_users.is_file() else set()
        if not formatted:
            raise system.StackError(
                f"kafka: storage in {paths.data} was formatted before the broker required authentication; "
                "wipe it with `python3 -m deploy.stack reset`"
            )
        # Principals the policy gained since (a new organisation) get their credential once the broker runs.
        marker = paths.formatted_controller_port
        formatted_for = marker.read_text().strip() if marker.is_file() else ""
        if formatted_for and formatted_for != str(controller_port):
            # Format stores the controller endpoint in the KRaft voter set; the broker would chase it.
            raise system.StackError(
                f"kafka: storage in {paths.data} was formatted for controller port {formatted_for}, not "
                f"{controller_port}; use LHL_KAFKA_CONTROLLER_PORT={formatted_for} or wipe it with "
                "`python3 -m deploy.stack reset`"
            )
        return
    cluster_id = _new_cluster_id()
    system.log(f"kafka: formatting storage (cluster id {cluster_id})")
    shutil.rmtree(paths.data, ignore_errors=True)
    try:
        system.run(
            _java_command(
                java,
                paths,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(paths.properties),
                *(arg for user, password in sorted(users.items()) for arg in _add_scram(user, password)),
            ),
            what="kafka: storage format",
            timeout=120,
        )
    except system.StackError:
        shutil.rmtree(paths.data, ignore_errors=True)
        raise
    paths.formatted_controller_port.write_text(f"{controller_port}\n")
    paths.formatted_users.write_text("".join(f"{user}\n" for user in sorted(users)))


def _add_scram(user: str, password: str) -> tuple[str, str]:
    # Bootstrapping the users into the metadata log is the only way in: no one can log in to create the first.
    return "--add-scram", f"SCRAM-SHA-512=[name={user},password={password}]"


def broker_pid(paths: KafkaPaths) -> int | None:
    """The pid of the running broker, or None."""
    pid = system.read_pid(paths.pid_file)
    if pid is not None and system.process_matches(pid, ["kafka.Kafka", str(paths.properties)]):
        return pid
    return None


def ready(port: int, user: Login, timeout: float = 3.0) -> bool:
    """Log in and ask for the metadata: the broker serves requests, knows its users and is registered (unfenced)."""
    try:
        with Connection(system.HOST, port, user, timeout=timeout) as conn:
            # A fenced broker is left out of the metadata answer, so an empty list means "not ready yet".
            return conn.broker_count() > 0
    except (OSError, ValueError, struct.error, KafkaError):
        return False


def up(state: Path, port: int, tls_port: int, controller_port: int) -> int:
    """Start the broker unless it runs; wait until it serves requests; apply the ACL policy; return its port."""
    paths = kafka_paths(state)
    policy = acl.load_policy()
    users = passwords(state, policy)
    broker_login = login(state, BROKER_USER)
    pid = broker_pid(paths)
    if pid is not None:
        running_port = listener_port(paths.properties, CLIENT_LISTENER) or port
        if running_port != port:
            system.log(f"kafka: runs on port {running_port}, not {port} as asked; `down` first to change it")
        if ready(running_port, broker_login):
            system.log(f"kafka: already running pid {pid} on {system.HOST}:{running_port}")
        else:
            system.log(f"kafka: pid {pid} is running but not answering yet; waiting")
            _wait_ready(paths, pid, running_port, broker_login)
        _add_users(paths, running_port, broker_login, users, policy)
        _apply_policy(running_port, broker_login, policy)
        return running_port

    java = _java()
    _fetch_jars(paths)
    system.check_ports_free("kafka", {"broker": port, "broker (TLS)": tls_port, "controller": controller_port})
    for folder in (paths.data, paths.logs):
        folder.mkdir(parents=True, exist_ok=True)
    tls_files = tls.ensure(state)
    _write_private(
        paths.properties, _render_properties((port, tls_port, controller_port), paths.data, users, tls_files)
    )
    _format_storage(java, paths, controller_port, {user: users[user] for user in scram_users(policy)})

    started = time.monotonic()
    with paths.stdout_log.open("a") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting kafka\n")
    pid = system.spawn_detached(_java_command(java, paths, "kafka.Kafka", str(paths.properties)), paths.stdout_log)
    paths.pid_file.write_text(f"{pid}\n")
    _wait_ready(paths, pid, port, broker_login)
    system.log(f"kafka: started pid {pid} on {system.HOST}:{port} (ready in {time.monotonic() - started:.1f} s)")
    _add_users(paths, port, broker_login, users, policy)
    _apply_policy(port, broker_login, policy)
    return port


def _add_users(paths: KafkaPaths, port: int, broker_login: Login, users: dict[str, str], policy: acl.Policy) -> None:
    """Give the principals the policy gained after the storage was formatted their SCRAM credential."""
    formatted = set(paths.formatted_users.read_text().split()) if paths.formatted_users.is_file() else set()
    new = [user for user in scram_users(policy) if user not in formatted]
    if not new:
        return
    try:
        with Connection(system.HOST, port, broker_login) as conn:
            for user in new:
                conn.set_scram_password(user, users[user])
    except (OSError, KafkaError) as exc:
        raise system.StackError(f"kafka: could not add the SCRAM users {', '.join(new)}: {exc}") from exc
    for user in new:
        _wait_until_accepted(port, Login(user, users[user]))
    paths.formatted_users.write_text("".join(f"{user}\n" for user in sorted(formatted | set(new))))
    system.log(f"kafka: SCRAM credentials added for {', '.join(new)}")


def rotate(state: Path, port: int, user: str) -> None:
    """A new password for one of the policy's principals: set on the broker first, then kept in the state folder."""
    if user in (BROKER_USER, CONTROLLER_USER):
        raise system.StackError(f"kafka: {user} is the broker's own; see docs/security.md to rotate it")
    if user not in acl.load_policy().principals:
        raise system.StackError(f"kafka: no principal {user!r} in the policy; `lhl acl show` lists them")
    broker_login = login(state, BROKER_USER)
    old = credentials.read(state, "kafka")[user]
    new = credentials.replace(state, "kafka", user)
    try:
        with Connection(system.HOST, port, broker_login) as conn:
            conn.set_scram_password(user, new)
    except (OSError, KafkaError) as exc:
        credentials.restore(state, "kafka", user, old)
        raise system.StackError(f"kafka: could not set {user}'s new password: {exc}") from exc
    _wait_until_accepted(port, Login(user, new))
    system.log(f"kafka: new password for {user}; restart what logs in as it (`deploy.stack env` has the new one)")


def _wait_until_accepted(port: int, user: Login, timeout: float = 10.0) -> None:
    """The controller commits a credential before the broker applies it; return once a login with it succeeds."""
    deadline = time.monotonic() + timeout
    while not ready(port, user):
        if time.monotonic() >= deadline:
            raise system.StackError(f"kafka: {user.username}'s new credential is not accepted after {timeout:.0f} s")
        time.sleep(0.1)


def _apply_policy(port: int, broker_login: Login, policy: acl.Policy) -> None:
    try:
        change = acl.apply(system.HOST, port, broker_login, policy)
    except (OSError, KafkaError) as exc:
        raise system.StackError(f"kafka: could not apply the ACL policy {acl.policy_file()}: {exc}") from exc
    if change.created or change.deleted:
        system.log(f"kafka: ACLs applied ({change.created} created, {change.deleted} removed, {change.kept} kept)")


def _logs_tail(paths: KafkaPaths) -> str:
    # The JVM's own output first: a launch failure (bad flag, missing class) never reaches server.log.
    return "\n".join(f"  {log}:\n{system.tail(log)}" for log in (paths.stdout_log, paths.server_log))


def _wait_ready(paths: KafkaPaths, pid: int, port: int, broker_login: Login) -> None:
    deadline = time.monotonic() + KAFKA_READY_TIMEOUT
    while True:
        if not system.alive(pid):
            paths.pid_file.unlink(missing_ok=True)
            raise system.StackError(f"kafka: the broker (pid {pid}) exited during start-up\n{_logs_tail(paths)}")
        if ready(port, broker_login):
            return
        if time.monotonic() >= deadline:
            system.stop_tree("kafka", pid, signal.SIGTERM, timeout=10)
            paths.pid_file.unlink(missing_ok=True)
            raise system.StackError(
                f"kafka: not answering on {system.HOST}:{port} after {KAFKA_READY_TIMEOUT:.0f} s; stopped it\n"
                f"{_logs_tail(paths)}"
            )
        time.sleep(0.5)


def down(state: Path) -> None:
    """Stop the broker of this state folder, if it runs."""
    paths = kafka_paths(state)
    pid = broker_pid(paths)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)
        system.log("kafka: not running")
        return
    system.log(f"kafka: stopping pid {pid}")
    system.stop_tree("kafka", pid, signal.SIGTERM)
    paths.pid_file.unlink(missing_ok=True)
    system.log("kafka: stopped")
