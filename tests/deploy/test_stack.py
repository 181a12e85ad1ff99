"""Integration tests of the Docker-free stack launcher against the real Kafka and PostgreSQL processes."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import stack

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

BOTH_UP = {"kafka": True, "postgres": True}
BOTH_DOWN = {"kafka": False, "postgres": False}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> tuple[str, int] | None:
    """Return (state, parent pid) of a process, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def _live(pid: int) -> bool:
    info = _stat(pid)
    return info is not None and info[0] not in ("Z", "X")


def _tree(pid: int) -> set[int]:
    """The process and all its descendants, found through /proc parent links."""
    parents = {int(entry): _stat(int(entry)) for entry in os.listdir("/proc") if entry.isdigit()}
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        for child, info in parents.items():
            if info is not None and info[1] == current and child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def _processes_mentioning(*needles: str) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles) and _live(int(entry)):
            found.add(int(entry))
    return found


@pytest.fixture(scope="module")
def shared_stack() -> stack.StackInfo:
    return stack.up()


def test_second_up_returns_the_same_info_and_starts_nothing(shared_stack: stack.StackInfo) -> None:
    before = stack.pids()
    assert None not in before.values()

    again = stack.up()

    assert again == shared_stack
    assert stack.pids() == before


def test_status_reports_kafka_and_postgres_up(shared_stack: stack.StackInfo) -> None:
    assert stack.status() == BOTH_UP


def test_env_subcommand_prints_the_operators_and_each_services_credentials_but_no_superusers(
    shared_stack: stack.StackInfo,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.stack", "env"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.splitlines() == [f"export {k}={shlex.quote(v)}" for k, v in shared_stack.as_env().items()]
    assert shared_stack.services["meetings"].database_url.startswith("postgresql://lhl_meetings:")
    assert shared_stack.services["audit"].kafka_username == "svc-audit"
    assert "postgres:" not in result.stdout
    assert "ADMIN_DATABASE_URL" not in result.stdout


def test_down_leaves_no_process_of_its_state_dir_and_up_starts_it_again(tmp_path: Path) -> None:
    # A stack of its own (other folder, other ports) so that stopping it cannot disturb the shared one.
    state = tmp_path / "stack"
    cluster_record = state / "postgres" / "location"
    ports = {"kafka_port": _free_port(), "kafka_controller_port": _free_port(), "pg_port": _free_port()}
    try:
        info = stack.up(state, **ports)
        assert info.kafka_bootstrap_servers == f"127.0.0.1:{ports['kafka_port']}"
        assert info.database_url.startswith("postgresql://lhl:")
        assert info.database_url.endswith(f"@127.0.0.1:{ports['pg_port']}/lhl")
        assert not info.database_url.startswith("postgresql://lhl:lhl@")
        assert stack.status(state) == BOTH_UP

        for _ in range(2):
            running = stack.pids(state)
            assert None not in running.values()
            processes = set().union(*(_tree(pid) for pid in running.values() if pid is not None))

            stack.down(state)

            assert stack.status(state) == BOTH_DOWN
            assert stack.pids(state) == {"kafka": None, "postgres": None}
            assert not {pid for pid in processes if _live(pid)}
            # The PostgreSQL cluster may live outside the state dir when its OS user cannot enter tmp_path.
            assert not _processes_mentioning(str(state), cluster_record.read_text().strip())

            assert stack.up(state, **ports) == info
            assert stack.pids(state)["kafka"] != running["kafka"]
    finally:
        stack.reset(state)

    assert not (state / "kafka" / "data").exists()
    assert not cluster_record.exists()
