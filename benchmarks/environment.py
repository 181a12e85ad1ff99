"""A fresh, isolated corner of the local stack per measurement, and the services run in it as real processes.

Each measurement gets its own topic prefix (with the broker's ACLs for it), its own database schemas and a key folder
that the services trust, so measurements never see each other's records. Services start the way `lhl run` starts
them, `faststream run services.<name>.app:create_app --factory` in their own process with their own credentials, so
the figures are what an operator gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.workload import PUBLISHER_SOURCES
from contracts import topics
from contracts.signing import Signer
from deploy import system
from lhl.acls import apply_namespace, remove_namespace
from runtime import keystore
from runtime.settings import RuntimeSettings
from services.audit import keys as audit_keys
from services.audit.settings import AuditSettings
from services.evaluations.settings import EvaluationsSettings
from services.meetings.settings import MeetingsSettings
from services.notifications.settings import NotificationsSettings

SETTINGS: dict[str, type[RuntimeSettings]] = {
    "meetings": MeetingsSettings,
    "evaluations": EvaluationsSettings,
    "notifications": NotificationsSettings,
    "audit": AuditSettings,
}
TABLE = {"meetings": "inbox", "evaluations": "inbox", "notifications": "inbox", "audit": "audit_log"}
"""Where a service's progress shows: one inbox row per record handled (one audit_log row for the audit)."""
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Progress:
    """What a service has done so far, read on one connection to its database."""

    conn: asyncpg.Connection
    schema: str
    table: str

    async def handled(self, where: str = "", *args: object) -> int:
        """Rows of its progress table (`TABLE`): records handled, their effects committed."""
        table = await self._made(self.table)
        if table is None:
            return 0
        found: int = await self.conn.fetchval(f"SELECT count(*) FROM {table} {where}", *args)
        return found

    async def publishing(self) -> bool:
        """Whether its outbox still holds an event to publish (not one set aside): a record is caught up with only
        once the events it derived are on their topics, and a relay behind the handlers shows only here."""
        outbox = await self._made("outbox")
        if outbox is None:
            return False
        waiting: bool = await self.conn.fetchval(f"SELECT EXISTS (SELECT FROM {outbox} WHERE failed_at IS NULL)")
        return waiting

    async def _made(self, table: str) -> str | None:
        """The table's qualified name once the service's migrations made it (before, None)."""
        qualified = f"{self.schema}.{table}"
        made: bool = await self.conn.fetchval("SELECT to_regclass($1) IS NOT NULL", qualified)
        return qualified if made else None


@dataclass
class Namespace:
    """A topic prefix, its topics and ACLs, the schemas the services create in it, and their keys."""

    partitions: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lhl-bench-")))
    signers: dict[str, Signer] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"bench{self.tag}."

    def schema(self, service: str) -> str:
        return f"bench{self.tag}_{service}"

    @property
    def keys_dir(self) -> Path:
        return self.folder / "keys"

    def settings(self, service: str) -> RuntimeSettings:
        """The service's settings as its process reads them: the stack's environment plus this namespace."""
        return SETTINGS[service](**self.overrides(service))

    def overrides(self, service: str) -> dict[str, Any]:
        return {
            "topic_prefix": self.prefix,
            "topic_partitions": self.partitions,
            "db_schema": self.schema(service),
            "keys_dir": str(self.keys_dir),
        }

    @property
    def operator(self) -> RuntimeSettings:
        return RuntimeSettings(service_name="lhl-cli", topic_prefix=self.prefix, topic_partitions=self.partitions)

    async def open(self) -> None:
        registry = self.keys_dir / "registry.json"
        self.signers = keystore.ensure_source_keys(self.keys_dir, registry, PUBLISHER_SOURCES, SINCE)
        for service in ("meetings", "evaluations", "notifications"):
            self.signers[f"/lhl/{service}"] = keystore.ensure_service_key(self.keys_dir, registry, service, SINCE)
        audit_keys.generate(self.folder / "audit-keys")
        await apply_namespace(self.operator.kafka, self.prefix)
        admin = AIOKafkaAdminClient(**self.operator.kafka.options())
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(self.prefix + t, self.partitions, replication_factor=1) for t in topics.ALL_TOPICS]
            )
        finally:
            await admin.close()

    async def close(self) -> None:
        """Delete the topics and their ACLs as the operator, and each schema as the role that owns it."""
        admin = AIOKafkaAdminClient(**self.operator.kafka.options())
        await admin.start()
        try:
            with contextlib.suppress(Exception):
                await admin.delete_topics([self.prefix + t for t in topics.ALL_TOPICS])
        finally:
            await admin.close()
        await remove_namespace(self.operator.kafka, self.prefix)
        for service in SETTINGS:
            settings = self.settings(service)
            url = settings.owner_database_url if isinstance(settings, AuditSettings) else settings.database_url
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema(service)}" CASCADE')
            finally:
                await conn.close()

    async def count(self, service: str, where: str = "", *args: object) -> int:
        """Rows of the service's progress table, as its owner sees them (0 before its migrations ran)."""
        async with self.counting(service) as progress:
            return await progress.handled(where, *args)

    @contextlib.asynccontextmanager
    async def counting(self, service: str) -> AsyncIterator[Progress]:
        """`Progress` for as long as the block runs, on one connection: a catch-up reads its progress four times a
        second, and fifty near its end, and a connection each time took PostgreSQL a new backend and a SCRAM
        exchange (6 ms, 2.4 of them the benchmark's CPU), from the cores the service is measured on."""
        settings = self.settings(service)
        url = settings.owner_database_url if isinstance(settings, AuditSettings) else settings.database_url
        conn = await asyncpg.connect(url)
        try:
            yield Progress(conn, f'"{self.schema(service)}"', TABLE[service])
        finally:
            await conn.close()

    async def fetch(self, service: str, query: str, *args: object) -> list[asyncpg.Record]:
        """A query on the service's schema (`{schema}` in the query names it), as its owner."""
        settings = self.settings(service)
        url = settings.owner_database_url if isinstance(settings, AuditSettings) else settings.database_url
        conn = await asyncpg.connect(url)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(query.format(schema=f'"{self.schema(service)}"'), *args)
            return rows
        finally:
            await conn.close()


class ServiceProcess:
    """One service in its own process, started as `lhl run` starts it; its RSS and CPU time from /proc."""

    def __init__(self, namespace: Namespace, service: str, extra_env: dict[str, str] | None = None) -> None:
        self.service = service
        self.log = namespace.folder / f"{service}.log"
        env = {
            **os.environ,
            **{k.upper(): str(v) for k, v in namespace.overrides(service).items()},
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "LOG_FORMAT": "json",
            **(extra_env or {}),
        }
        env.pop("HTTP_PORT", None)  # several benchmark processes at once: no health port to collide on
        if service == "audit":
            env["AUDIT_SIGNING_KEY"] = str(namespace.folder / "audit-keys" / audit_keys.SIGNING_FILE)
            env["AUDIT_CHECKPOINT_DIR"] = str(namespace.folder / "audit-checkpoints")
        faststream = Path(sys.executable).parent / "faststream"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(faststream), "run", f"services.{service}.app:create_app", "--factory"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.started = time.perf_counter()

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(f"{self.service} exited with {self.process.returncode}:\n" + "\n".join(tail))

    def rss_mib(self) -> float:
        """The service's resident memory and its check processes' (runtime.check_processes)."""
        return sum(_rss_kib(pid) for pid in (self.pid, *_children(self.pid))) / 1024

    def cpu_seconds(self) -> float:
        """The service's CPU time and its check processes', live or ended (an ended child's is in the parent's)."""
        return tree_cpu_seconds(self.pid)

    def loop_thread_seconds(self) -> tuple[float, float] | None:
        """How long the service's event loop's thread has run, and waited, ready, for a core (`thread_seconds`)."""
        return thread_seconds(self.pid, self.pid)

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(300):
                if self.process.poll() is not None:
                    return
                await asyncio.sleep(0.1)
            self.process.kill()
            self.process.wait()


@contextlib.asynccontextmanager
async def namespace(partitions: int, keep: bool = False) -> AsyncIterator[Namespace]:
    space = Namespace(partitions)
    await space.open()
    try:
        yield space
    finally:
        if not keep:
            await space.close()


@contextlib.asynccontextmanager
async def running(
    space: Namespace, services: Sequence[str], env: dict[str, str] | None = None
) -> AsyncIterator[list[ServiceProcess]]:
    started = [ServiceProcess(space, s, env) for s in services]
    try:
        yield started
    finally:
        for process in started:
            await process.stop()


def cpu_seconds(pid: int, *, ended_children: bool = False) -> float:
    """User and system CPU of a process so far, from /proc (Linux), with that of the children it has reaped when
    `ended_children`; 0 for a process that has ended since it was listed."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()  # after the command's name: utime [11], stime [12], cutime [13]
    return sum(int(ticks) for ticks in fields[11 : 15 if ended_children else 13]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """A process's CPU time and its children's, live or ended: a service and its check processes, or PostgreSQL's
    postmaster and its backends (an ended child's is in the parent's once reaped)."""
    return cpu_seconds(pid, ended_children=True) + sum(map(cpu_seconds, _children(pid)))


def thread_seconds(pid: int, tid: int, proc: Path = Path("/proc")) -> tuple[float, float] | None:
    """A thread's time on a core so far, and its time ready to run but waiting for one, from the scheduler's
    `schedstat` (Linux, when the kernel keeps it; None where it does not, or the thread has ended). A process's first
    thread has the process's id: a service's event loop runs there."""
    try:
        running, waiting, _ = (proc / str(pid) / "task" / str(tid) / "schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(running) / 1e9, int(waiting) / 1e9


def machine_cpu_seconds() -> tuple[float, float]:
    """The whole machine's busy and total CPU time so far, over all cores, from /proc/stat (Linux): every process on
    it, ours or not. Busy is user, nice, system, irq, softirq and steal; total adds idle and iowait."""
    fields = [int(ticks) for ticks in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system_, idle, iowait, irq, softirq, steal = fields
    hertz = os.sysconf("SC_CLK_TCK")
    busy = user + nice + system_ + irq + softirq + steal
    return busy / hertz, (busy + idle + iowait) / hertz


def _children(pid: int) -> list[int]:
    return [child for child, (_, parent, _) in system.process_table().items() if parent == pid]


def _rss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
