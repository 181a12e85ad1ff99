"""Operating-system plumbing for the stack launcher: commands, Debian packages, processes, ports and locks."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

HOST = "127.0.0.1"
STOP_TIMEOUT = 30.0
KILL_TIMEOUT = 10.0


class StackError(RuntimeError):
    """A part of the stack could not be installed, started or stopped."""


def log(message: str) -> None:
    """Print one progress line to stderr, keeping stdout for what scripts parse (`env`, `status`)."""
    print(message, file=sys.stderr, flush=True)


def is_root() -> bool:
    """Tell whether we may install packages and must drop privileges for PostgreSQL."""
    return os.geteuid() == 0


@functools.cache
def checkout() -> Path:
    """Find the repository checkout, which holds the Kafka config files and the default state folder."""
    # `pip install .` also installs this module, but not deploy/kafka/: then look from the working directory.
    here = Path(__file__).resolve().parent.parent
    cwd = Path.cwd().resolve()
    for candidate in (here, cwd, *cwd.parents):
        if (candidate / "deploy" / "kafka" / "pom.xml").is_file():
            return candidate
    raise StackError("cannot find deploy/kafka/pom.xml; run from the repository checkout")


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log, indented for an error message."""
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"    (no log at {path})"
    return "\n".join(f"    {line}" for line in content[-lines:]) or f"    ({path} is empty)"


def run(
    argv: Sequence[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
) -> str:
    """Run a short-lived command; on failure raise a StackError that carries the end of its output."""
    try:
        result = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            input=input_text,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what}: timed out after {timeout:.0f} s: {shlex.join(argv)}") from exc
    except OSError as exc:
        raise StackError(f"{what}: cannot run {argv[0]}: {exc}") from exc
    if result.returncode != 0:
        output = "\n".join(f"    {line}" for line in result.stdout.splitlines()[-30:])
        raise StackError(f"{what} failed (exit {result.returncode}): {shlex.join(argv)}\n{output}")
    return result.stdout


@functools.cache
def _apt_update() -> None:
    # Cached: the package lists only need refreshing once per process, and it is the slow step.
    log("stack: apt-get update")
    run(["apt-get", "update", "-q"], what="apt-get update", env=_apt_env(), timeout=600)


def _apt_env() -> dict[str, str]:
    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def apt_install(part: str, packages: Sequence[str]) -> None:
    """Install Debian packages non-interactively (root only)."""
    _apt_update()
    log(f"{part}: apt-get install -y {' '.join(packages)}")
    run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        what="apt-get install",
        env=_apt_env(),
        timeout=1200,
    )


def require_tool(part: str, tool: str, package: str) -> str:
    """Return the path of `tool`, installing its Debian package first when running as root."""
    found = shutil.which(tool)
    if found:
        return found
    if is_root() and shutil.which("apt-get"):
        apt_install(part, [package])
        found = shutil.which(tool)
        if found:
            return found
    raise StackError(
        f"{part}: `{tool}` not found; install it first, e.g. `sudo apt-get install -y {package}` (Debian/Ubuntu)"
    )


def proc_state(pid: int) -> str | None:
    """Return the /proc state letter of `pid`, or None when /proc has no such process (or no /proc at all)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may contain spaces or parentheses; the state follows the last ')'.
    return stat[stat.rfind(")") + 2 :].split(" ", 1)[0]


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    # Kafka is our direct child when the Python process that started it is still running (pytest): reap it, or
    # it lingers as a zombie that `kill(pid, 0)` still reports as present.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return proc_state(pid) not in ("Z", "X")


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def process_matches(pid: int, needles: Sequence[str]) -> bool:
    """Tell whether `pid` is alive and still the process we started (pid files outlive pid reuse)."""
    if not alive(pid):
        return False
    args = _cmdline(pid)
    if args is None:
        # Without /proc (macOS) the pid file is all there is to go on.
        return not Path("/proc").is_dir()
    joined = "\0".join(args)
    return all(needle in joined for needle in needles)


def process_table() -> dict[int, tuple[str, int, int]]:
    """Map every pid to (state, parent pid, process group); empty without /proc."""
    table = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 2:
                table[int(entry)] = (fields[0], int(fields[1]), int(fields[2]))
    return table


def family(leader: int, known: set[int]) -> set[int]:
    """Live processes of the leader's group and its descendants, plus those of `known` still alive."""
    leader_alive = alive(leader)
    table = process_table()
    if not table:
        return {leader} if leader_alive else set()
    # PostgreSQL backends call setsid() themselves, so the leader's group alone misses them: follow the tree.
    family = {pid for pid, (_, _, pgid) in table.items() if pgid == leader}
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    frontier = [leader]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in family:
                family.add(child)
                frontier.append(child)
    # Orphans are re-parented once the leader dies, so remember every pid seen so far.
    family |= known
    if leader_alive:
        family.add(leader)
    return {pid for pid in family if pid in table and table[pid][0] not in ("Z", "X")}


def _signal_family(leader: int, members: set[int], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, sig)
    for pid in members:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _wait_family_gone(leader: int, members: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        members = family(leader, members)
        if not members or time.monotonic() >= deadline:
            return members
        time.sleep(0.2)


def stop_tree(
    part: str,
    leader: int,
    first: signal.Signals,
    timeout: float = STOP_TIMEOUT,
    known: frozenset[int] = frozenset(),
) -> None:
    """Signal a process, its group and its descendants; SIGKILL whatever is left after the timeout."""
    members = family(leader, set(known))
    if not members:
        return
    _signal_family(leader, members, first)
    members = _wait_family_gone(leader, members, timeout)
    if not members:
        return
    log(f"{part}: {sorted(members)} still running {timeout:.0f} s after {first.name}; sending SIGKILL")
    _signal_family(leader, members, signal.SIGKILL)
    members = _wait_family_gone(leader, members, KILL_TIMEOUT)
    if members:
        raise StackError(f"{part}: processes {sorted(members)} survived SIGKILL")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR mirrors the servers, so TIME_WAIT leftovers of a previous run do not count as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def check_ports_free(part: str, ports: Mapping[str, int]) -> None:
    """Fail early with a clear message instead of letting a server die on a busy port."""
    busy = [f"{name} {port}" for name, port in ports.items() if not _port_free(port)]
    if busy:
        raise StackError(
            f"{part}: port(s) already in use on {HOST}: {', '.join(busy)} "
            "(another stack or server?); stop it or choose other ports with LHL_KAFKA_PORT, "
            "LHL_KAFKA_CONTROLLER_PORT, LHL_PG_PORT"
        )


@contextlib.contextmanager
def locked(state: Path) -> Iterator[None]:
    """Serialise up/down/reset on one state folder (parallel test workers may all call up())."""
    state.mkdir(parents=True, exist_ok=True)
    with open(state / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_pid(pid_file: Path) -> int | None:
    """The pid on the first line of a pid file, or None."""
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def spawn_detached(argv: Sequence[str], log_file: Path) -> int:
    """Start a daemon in its own session, stdin from /dev/null, stdout and stderr appended to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # posix_spawn instead of Popen: no Popen object whose finaliser warns that the daemon "is still running".
    return os.posix_spawn(
        argv[0],
        list(argv),
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        # Python ignores SIGPIPE, and ignored signals survive exec.
        setsigdef=(signal.SIGPIPE,),
    )
