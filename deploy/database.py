"""The local PostgreSQL: a private cluster (initdb, pg_ctl) run as the `postgres` OS user when we are root."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy import credentials, system

PG_READY_TIMEOUT = 60.0

PG_SYSTEM_USER = "postgres"
PG_SUPERUSER = "postgres"
"""Has no password: it logs in only over the unix socket, whose folder only the cluster's OS user can enter."""
APP_ROLE = "lhl"
"""The operator's role: owns the database, is a member of every service role (reads and cleans up their schemas)."""
APP_DATABASE = "lhl"
SERVICE_SCHEMAS = ("meetings", "evaluations", "notifications", "audit", "gateway")
"""Each service's role `lhl_<schema>` owns its schema and nothing else (the gateway's also reads the audit log, by
a grant the audit service gives it: `audit_reader_roles`)."""
AUDIT_WRITER_ROLE = "lhl_audit_writer"
"""The audit service's working role: INSERT and SELECT on its log, granted by the audit's own migrations."""

# A unix socket path must fit in sun_path (108 bytes on Linux); keep a margin for the ".s.PGSQL.<port>" name.
MAX_SOCKET_DIR_LEN = 80


@dataclass(frozen=True)
class ClusterPaths:
    """Where a private cluster lives; `base` belongs to the server's OS user, maybe outside the state dir."""

    record: Path
    base: Path

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "run"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    @property
    def conf(self) -> Path:
        return self.data / "lhl.conf"


def service_role(schema: str) -> str:
    return f"lhl_{schema}"


def login_roles() -> list[str]:
    return [APP_ROLE, *(service_role(schema) for schema in SERVICE_SCHEMAS), AUDIT_WRITER_ROLE]


def passwords(state: Path) -> dict[str, str]:
    """The password of every login role of this installation, made on first use."""
    return credentials.ensure(state, "postgres", login_roles())


def url(port: int, role: str, password: str) -> str:
    """A connection URL for one of the roles."""
    return f"postgresql://{role}:{password}@{system.HOST}:{port}/{APP_DATABASE}"


def find_bin_dir() -> Path | None:
    """Return the newest /usr/lib/postgresql/<version>/bin that holds every tool we use."""
    found = []
    for candidate in glob.glob("/usr/lib/postgresql/*/bin"):
        folder = Path(candidate)
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "psql", "pg_isready")):
            key = tuple(int(part) for part in re.findall(r"\d+", folder.parent.name)) or (0,)
            found.append((key, folder))
    return max(found)[1] if found else None


def _require_bin_dir() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        return bin_dir
    if system.is_root() and shutil.which("apt-get"):
        system.apt_install("postgres", ["postgresql"])
        bin_dir = find_bin_dir()
        if bin_dir is not None:
            return bin_dir
    raise system.StackError(
        "postgres: no server binaries in /usr/lib/postgresql/*/bin; install them first with "
        "`sudo apt-get install -y postgresql` (Debian/Ubuntu)"
    )


def _server_user() -> pwd.struct_passwd | None:
    """The OS user that owns and runs the cluster: `postgres` when we are root (the server refuses root)."""
    if not system.is_root():
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        raise system.StackError(
            f"postgres: running as root but there is no `{PG_SYSTEM_USER}` system user to run the server as "
            "(Debian's postgresql package creates it: `apt-get install -y postgresql`)"
        ) from None


def _as_server_user(argv: Sequence[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return list(argv)
    return ["runuser", "-u", user.pw_name, "--", *argv]


def _clean_env() -> dict[str, str]:
    # An inherited PGHOST/PGPORT/PGDATA would silently point pg_ctl, psql and pg_isready at another server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _user_can_write(user: pwd.struct_passwd | None, folder: Path) -> bool:
    if user is None:
        return os.access(folder, os.W_OK | os.X_OK)
    probe = subprocess.run(
        _as_server_user(["test", "-w", str(folder), "-a", "-x", str(folder)], user),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        check=False,
    )
    return probe.returncode == 0


def _prepare_base(base: Path, user: pwd.struct_passwd | None) -> bool:
    """Create the cluster folder for `user` and tell whether that user can really reach it."""
    if len(str(base / "run")) > MAX_SOCKET_DIR_LEN:
        return False
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    return _user_can_write(user, base)


def _fallback_base(state: Path) -> Path:
    digest = hashlib.sha256(str(state).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"lhl-{digest}"


def cluster_paths(state: Path) -> ClusterPaths:
    """Where the cluster of a state folder lives: as recorded by the first `up`, else the default place."""
    record = state / "postgres" / "location"
    try:
        base = Path(record.read_text().strip())
    except OSError:
        base = state / "postgres" / "cluster"
    return ClusterPaths(record=record, base=base)


def _choose_base(state: Path, user: pwd.struct_passwd | None) -> ClusterPaths:
    paths = cluster_paths(state)
    if paths.record.is_file():
        if not _prepare_base(paths.base, user):
            raise system.StackError(f"postgres: {paths.base} (named in {paths.record}) is not usable; run `reset`")
        return paths
    folder = state / "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    if user is not None:
        # The server's user must be able to traverse the state folders to reach its own cluster folder.
        for path in (state, folder):
            os.chmod(path, os.stat(path).st_mode | 0o755)
    for base in (folder / "cluster", _fallback_base(state)):
        if _prepare_base(base, user):
            break
        system.log(f"postgres: {base} is unreachable for the server's OS user or too long for a unix socket")
        # rmdir, not rmtree: the folder was only just created empty, and anything else in it is not ours.
        with contextlib.suppress(OSError):
            base.rmdir()
    else:
        raise system.StackError("postgres: found no folder the server's OS user can write to")
    paths.record.write_text(f"{base}\n")
    if base.parent != folder:
        # Keep the server log findable next to the rest of the state even when the cluster lives elsewhere.
        link = folder / "postgres.log"
        link.unlink(missing_ok=True)
        link.symlink_to(base / "postgres.log")
    return ClusterPaths(record=paths.record, base=base)


def _write_owned(path: Path, text: str, user: pwd.struct_passwd | None, mode: int = 0o600) -> None:
    path.write_text(text)
    os.chmod(path, mode)
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def _initdb(bin_dir: Path, paths: ClusterPaths, user: pwd.struct_passwd | None) -> None:
    if (paths.data / "PG_VERSION").is_file():
        return
    system.log(f"postgres: initdb in {paths.data}")
    shutil.rmtree(paths.data, ignore_errors=True)
    system.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(paths.data),
                "--username",
                PG_SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            user,
        ),
        what="postgres: initdb",
        env=_clean_env(),
        cwd=paths.base,
        timeout=300,
    )
    postgresql_conf = paths.data / "postgresql.conf"
    with postgresql_conf.open("a") as handle:
        handle.write("\n# Ports and sockets of the local stack, rewritten by deploy/stack.py on every up.\n")
        handle.write("include_if_exists = 'lhl.conf'\n")


def _configure(paths: ClusterPaths, port: int, user: pwd.struct_passwd | None) -> None:
    paths.sockets.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(paths.sockets, user.pw_uid, user.pw_gid)
    _write_owned(
        paths.conf,
        "# Generated by deploy/stack.py; edits here are overwritten on the next `up`.\n"
        f"listen_addresses = '{system.HOST}'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{paths.sockets}'\n"
        "password_encryption = 'scram-sha-256'\n"
        "max_connections = 200\n"
        "timezone = 'UTC'\n"
        "log_timezone = 'UTC'\n"
        "log_line_prefix = '%m [%p] %q%u@%d '\n",
        user,
    )
    _write_owned(
        paths.data / "pg_hba.conf",
        "# Generated by deploy/stack.py. Passwords over TCP, never for the superuser; trust only on the unix\n"
        "# socket, whose folder only the cluster's OS user (and root) can enter.\n"
        "# TYPE  DATABASE  USER      ADDRESS       METHOD\n"
        "local   all       all                     trust\n"
        f"host    all       {PG_SUPERUSER}  all           reject\n"
        "host    all       all       127.0.0.1/32  scram-sha-256\n"
        "host    all       all       ::1/128       scram-sha-256\n",
        user,
    )


def postmaster_pid(paths: ClusterPaths) -> int | None:
    """The pid of the running postmaster, or None."""
    pid = system.read_pid(paths.data / "postmaster.pid")
    if pid is not None and system.process_matches(pid, [str(paths.data)]):
        return pid
    return None


def configured_port(paths: ClusterPaths) -> int | None:
    """The port the cluster was last started on."""
    try:
        match = re.search(r"^port = (\d+)", paths.conf.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def ready(bin_dir: Path | None, port: int) -> bool:
    """Ask pg_isready whether the server accepts connections on `port`."""
    if bin_dir is None:
        return False
    probe = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", system.HOST, "-p", str(port), "-t", "2"],
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return probe.returncode == 0


def _wait_ready(bin_dir: Path, paths: ClusterPaths, port: int) -> None:
    deadline = time.monotonic() + PG_READY_TIMEOUT
    while not ready(bin_dir, port):
        if time.monotonic() >= deadline:
            raise system.StackError(
                f"postgres: pg_isready gets no answer on {system.HOST}:{port} after {PG_READY_TIMEOUT:.0f} s\n"
                f"  {paths.log}:\n{system.tail(paths.log)}"
            )
        time.sleep(0.3)


def provision_sql(passwords: dict[str, str]) -> str:
    """Roles, database and schemas, idempotently; passwords are set on every run so the state folder is the truth."""
    statements = [
        # A superuser password is never needed (the socket is the way in), so none exists to leak.
        f"ALTER ROLE {PG_SUPERUSER} WITH PASSWORD NULL;",
    ]
    for role in login_roles():
        options = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
        if role == AUDIT_WRITER_ROLE:
            options += " NOINHERIT"
        statements.append(
            f"SELECT 'CREATE ROLE {role}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')\\gexec\n"
            f"ALTER ROLE {role} WITH {options} PASSWORD '{passwords[role]}';"
        )
    statements.append(
        f"SELECT 'CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{APP_DATABASE}')\\gexec\n"
        f"ALTER DATABASE {APP_DATABASE} OWNER TO {APP_ROLE};"
    )
    statements.append(f"\\connect {APP_DATABASE}")
    for schema in SERVICE_SCHEMAS:
        role = service_role(schema)
        statements += [
            # CREATE on the database lets a service make its own schemas for tests and the demo (it owns those);
            # it gives no access to any schema it does not own.
            f"GRANT CONNECT, CREATE ON DATABASE {APP_DATABASE} TO {role};",
            f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role};",
            f"ALTER SCHEMA {schema} OWNER TO {role};",
        ]
        if schema != "audit":
            # The operator reads and administers the services' state through their roles; the audit log it
            # only reads through the audit's writer role, so no operator login can alter it.
            statements.append(f"GRANT {role} TO {APP_ROLE};")
    statements += [
        "REVOKE ALL ON SCHEMA public FROM PUBLIC;",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {APP_ROLE};",
    ]
    return "\n".join(statements) + "\n"


def _provision(bin_dir: Path, paths: ClusterPaths, port: int, passwords: dict[str, str]) -> None:
    system.run(
        [
            str(bin_dir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(paths.sockets),
            "-p",
            str(port),
            "-U",
            PG_SUPERUSER,
            "-d",
            "postgres",
            "-f",
            "-",
        ],
        what="postgres: creating roles and database",
        env=_clean_env(),
        input_text=provision_sql(passwords),
        timeout=60,
    )


def up(state: Path, port: int) -> int:
    """Start the cluster unless it runs (creating it on first use); return the port it listens on."""
    paths = cluster_paths(state)
    running = postmaster_pid(paths)
    if running is not None:
        running_port = configured_port(paths) or port
        if running_port != port:
            system.log(f"postgres: runs on port {running_port}, not {port} as asked; `down` first to change it")
        bin_dir = find_bin_dir()
        if bin_dir is not None:
            _wait_ready(bin_dir, paths, running_port)
            # Idempotent, and how a role the installation gained since the cluster started (a new service's) is made.
            _provision(bin_dir, paths, running_port, passwords(state))
        system.log(f"postgres: already running pid {running} on {system.HOST}:{running_port}")
        return running_port

    bin_dir = _require_bin_dir()
    user = _server_user()
    system.check_ports_free("postgres", {"postgres": port})
    paths = _choose_base(state, user)
    _initdb(bin_dir, paths, user)
    _configure(paths, port, user)

    started = time.monotonic()
    system.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "--pgdata",
                str(paths.data),
                "--log",
                str(paths.log),
                "--wait",
                "--timeout",
                str(int(PG_READY_TIMEOUT)),
                "--silent",
                "start",
            ],
            user,
        ),
        what="postgres: pg_ctl start",
        env=_clean_env(),
        cwd=paths.base,
        timeout=PG_READY_TIMEOUT + 30,
    )
    _wait_ready(bin_dir, paths, port)
    _provision(bin_dir, paths, port, passwords(state))
    pid = postmaster_pid(paths)
    elapsed = time.monotonic() - started
    system.log(f"postgres: started pid {pid} on {system.HOST}:{port} (ready in {elapsed:.1f} s, data {paths.data})")
    return port


def down(state: Path) -> None:
    """Stop the cluster of this state folder and every backend, if it runs."""
    paths = cluster_paths(state)
    pid = postmaster_pid(paths)
    if pid is None:
        system.log("postgres: not running")
        return
    system.log(f"postgres: stopping pid {pid}")
    # Taken before pg_ctl runs: if the postmaster dies first, its backends lose their link to it.
    family = frozenset(system.family(pid, set()))
    bin_dir = find_bin_dir()
    if bin_dir is not None:
        stop = [str(bin_dir / "pg_ctl"), "--pgdata", str(paths.data), "--mode", "fast", "--wait"]
        stop += ["--timeout", str(int(system.STOP_TIMEOUT)), "--silent", "stop"]
        try:
            system.run(
                _as_server_user(stop, _server_user()),
                what="postgres: pg_ctl stop",
                env=_clean_env(),
                cwd=paths.base,
                timeout=system.STOP_TIMEOUT + 10,
            )
        except system.StackError as exc:
            system.log(f"{exc}\npostgres: signalling the processes instead")
    # Whatever pg_ctl left behind gets SIGQUIT (the server's immediate shutdown), then SIGKILL.
    system.stop_tree("postgres", pid, signal.SIGQUIT, timeout=10, known=family)
    system.log("postgres: stopped")


def delete_cluster(state: Path) -> None:
    """Delete the (stopped) cluster, including one that had to live outside the state folder."""
    paths = cluster_paths(state)
    outside = paths.base.parent == Path("/var/tmp") and paths.base.name.startswith("lhl-")
    if paths.record.is_file() and outside:
        shutil.rmtree(paths.base, ignore_errors=True)
    shutil.rmtree(state / "postgres", ignore_errors=True)


def rotate(state: Path, role: str) -> None:
    """A new password for one login role, set at once over the unix socket and kept in the state folder."""
    if role not in login_roles():
        raise system.StackError(f"postgres: no login role {role!r} (roles: {', '.join(login_roles())})")
    paths = cluster_paths(state)
    bin_dir, port = find_bin_dir(), configured_port(paths)
    if postmaster_pid(paths) is None or bin_dir is None or port is None:
        raise system.StackError("postgres: not running; `up` first")
    old = credentials.read(state, "postgres")[role]
    credentials.replace(state, "postgres", role)
    try:
        _provision(bin_dir, paths, port, passwords(state))
    except system.StackError:
        credentials.restore(state, "postgres", role, old)
        raise
    system.log(f"postgres: new password for {role}; restart what logs in as it (`deploy.stack env` has the new one)")
