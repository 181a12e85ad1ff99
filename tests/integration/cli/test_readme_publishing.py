"""The README's "Publishing an event" runs as written, from a fresh key to the duplicate it promises, and on
today's clock sets off nothing but the one e-mail it promises."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from deploy import lockfile
from tests.support.http import free_port
from tests.support.infra import Infra
from tests.support.processes import LHL, wait_until_ready

README = (lockfile.ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Publishing an event") : README.index("## Where things go")]
SOURCE = "/statsforvalteren/vestland/moter"
Lines = list[dict[str, Any]]


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, flags=re.DOTALL)


async def shell(command: str, cwd: Path, env: dict[str, str]) -> str:
    """Run one of the README's commands as a shell would, with the virtual environment's tools."""
    process = await asyncio.create_subprocess_shell(
        command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, f"{command}: {err.decode()}"
    return out.decode()


def log_lines(log: Path) -> Lines:
    lines = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


async def wait_for(log: Path, enough: Callable[[Lines], bool], process: asyncio.subprocess.Process) -> Lines:
    async with asyncio.timeout(60):
        while not enough(lines := log_lines(log)):
            assert process.returncode is None, "lhl run exited"
            await asyncio.sleep(0.5)
    return lines


async def test_the_readme_example_is_processed_once_its_resend_is_a_duplicate_and_nothing_fires_on_todays_clock(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    [generate] = fenced("sh")[:1]
    [script] = fenced("python")
    [run_script] = fenced("sh")[1:2]
    assert generate.strip() == f".venv/bin/lhl keys generate --source {SOURCE}"
    # A fresh clone: the repository's root, holding only the virtual environment (the keys folder starts empty).
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (clone / "deploy").symlink_to(lockfile.ROOT / "deploy")  # `python3 -m deploy.stack credential` works there
    # The one change to the script: this test's own topic, so its services do not join the consumer groups of a
    # `make run` on the same stack, nor leave events on the topics that one reads.
    prefix = f"t{run_id}."
    assert script.count('"lhl.ingress.meetings.v1"') == 1
    script = script.replace('"lhl.ingress.meetings.v1"', f'"{prefix}lhl.ingress.meetings.v1"')
    (clone / "publish_example.py").write_text(script, encoding="utf-8")
    ports = {"meetings": free_port(), "notifications": free_port()}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "KEYS_DIR": str(clone / ".local" / "keys"),
        "LHL_STATE_DIR": os.environ.get("LHL_STATE_DIR", str(lockfile.ROOT / ".local")),
        "TOPIC_PREFIX": prefix,
        "LHL_MEETINGS_DB_SCHEMA": f"t{run_id}_meetings",
        "LHL_NOTIFICATIONS_DB_SCHEMA": f"t{run_id}_notifications",
        # Ports of their own: another stack on this machine may hold lhl run's 8081-8084.
        "LHL_MEETINGS_HTTP_PORT": str(ports["meetings"]),
        "LHL_NOTIFICATIONS_HTTP_PORT": str(ports["notifications"]),
        "LOG_FORMAT": "json",
    }
    await shell(generate, clone, env)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(LHL), "run", "meetings", "notifications", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            for port in ports.values():
                await wait_until_ready(f"http://127.0.0.1:{port}/health/ready", process)
            event_id = (await shell(run_script, clone, env)).strip()

            def about_it(lines: Lines, name: str) -> Lines:
                return [line for line in lines if line.get("event") == name and line.get("event_id") == event_id]

            await wait_for(
                log,
                lambda ls: (
                    bool(about_it(ls, "event_duplicate"))
                    and any(line.get("event") == "notification_delivered" for line in ls)
                ),
                process,
            )
            # Anything due now would fire on the timer poller's next rounds (every second): give it three.
            await asyncio.sleep(3)
            async with asyncio.timeout(30):
                conn = await asyncpg.connect(infra.database_url)
                try:
                    armed = await conn.fetch(
                        f"SELECT timer_key, due_at, fired_at FROM t{run_id}_meetings.timers ORDER BY timer_key"
                    )
                finally:
                    await conn.close()
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    lines = log_lines(log)  # all of it, up to the stop
    [processed] = about_it(lines, "event_processed")
    assert set(processed["emitted"]) >= {
        "no.levehelelivet.meeting.recorded.v1",
        "no.levehelelivet.action-item.assigned.v1",
    }
    assert len(about_it(lines, "event_duplicate")) == 1
    # The term is over on today's clock, yet nothing fires: the item's reminders wait for 2099, and a meeting in the
    # term's last 120 days arms no watch for a next one. Only the assignment is e-mailed, as the README says.
    assert [line for line in lines if line.get("event") == "timer_fired"] == []
    emitted = {kind for line in lines if line.get("event") == "event_processed" for kind in line.get("emitted", [])}
    assert not {kind for kind in emitted if kind.endswith(".overdue.v1") or "due-soon" in kind}, emitted
    item = "action-item/leve-hele-livet-2019-2023/vestland-2023-10-a1/"
    assert [(row["timer_key"], row["due_at"], row["fired_at"]) for row in armed] == [
        (item + "due-soon", datetime(2099, 12, 23, 23, 0, tzinfo=UTC), None),
        (item + "overdue", datetime(2099, 12, 31, 23, 0, tzinfo=UTC), None),
    ]
    mailed = log.read_text(encoding="utf-8").splitlines()[-1]
    assert mailed == "e-mails received by the local SMTP sink: leve-hele-livet@ks-vestland.lhl.invalid 1"
