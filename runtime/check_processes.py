"""A large batch's Ed25519 work made in processes of their own, while the event loop's thread goes on: the records it
reads verified (whole, or only their signature checks: `runtime.parallel`), and the events it derives signed
(`runtime.signing_ahead`).

In threads a check needs the GIL around each call into libsodium, which the loop holds while it reads, so the audit
spent a fifth of a 1,000-record batch waiting for checks; a process has a GIL of its own. A check sends public
material only (records, public keys, signatures; a child keeps the last key registry it was sent); a signature
sends the service's secret key with each chunk, over the pipe to the service's own child, which keeps it no longer
than the chunk. The children start with the service, before it consumes, so that the first backlog
after a start (a catch-up) finds them running: started by its first large batch instead, they left a 10,000-event
backlog checked at about 4,000 events/s where they reach 5,000 (docs/performance.md). One per core (at most four);
they end when their input closes. A child that dies, answers out of turn or falls silent fails the chunks it held
(`CheckProcessGone`: the caller does that work in threads), and the children are started again after a pause. How
the two talk is `runtime.check_child`; one child's link, `runtime.child_link`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, TypeVar

from contracts.keys import KeyRegistry
from runtime import check_child
from runtime.check_child import Checks
from runtime.child_link import CheckProcessGone, ChildLink, failed
from runtime.logging import get_logger

T = TypeVar("T")
_ROOT: Final = Path(__file__).resolve().parents[1]
RESTART_PAUSE_SECONDS: Final = 5.0
LONGEST_PAUSE_SECONDS: Final = 300.0
SERVED_SECONDS: Final = 600.0
MOST: Final = 4
"""Children at most when not configured: a container may see the host's cores but be given two of them."""
STARTING_SECONDS: Final = 30.0
ANSWER_SECONDS: Final = 10.0
"""A chunk's checks take milliseconds; a child silent this long is given up, so a batch never waits for ever."""


def usable_cores() -> int:
    """The cores this process may run on (all of the machine's where the system cannot say)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; not on macOS
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class CheckProcesses:
    """The service's check processes, started with it (`start`) and again on first use after a failure; `submit` a
    chunk, `close` when the service stops."""

    def __init__(
        self,
        count: int | None = None,
        restart_pause: float = RESTART_PAUSE_SECONDS,
        answer_seconds: float = ANSWER_SECONDS,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._answer_seconds = answer_seconds
        self._on_failure = on_failure
        self._count = min(MOST, usable_cores()) if count is None else count
        self._restart_pause = restart_pause
        self._children: list[ChildLink] = []
        self._starting: asyncio.Task[None] | None = None
        self._not_before = 0.0
        self._failures = 0  # in a row: each doubles the pause before the next start
        self._started_at: float | None = None
        self._turn = 0
        self.sent = 0  # items (records to check, events to sign) sent to the children so far
        self._closed = False
        self._closing: set[asyncio.Task[None]] = set()
        self._log = get_logger(component="check_processes")

    def begin(self) -> None:
        """Start the children in the background, unless they run, are starting, are off, or wait out a pause."""
        loop = asyncio.get_running_loop()
        if self._children or self._count == 0 or self._closed or self._starting is not None:
            return
        if loop.time() >= self._not_before:
            self._starting = loop.create_task(self._start(), name="check-processes-start")

    def ready(self) -> bool:
        """Whether the children take chunks now; if not, they are started (`begin`)."""
        if self._children:
            return True
        self.begin()
        return False

    async def start(self) -> bool:
        """Start the children now, or wait for the start under way; whether they run."""
        if not self.ready() and self._starting is not None:
            await asyncio.shield(self._starting)
        return bool(self._children)

    @property
    def pids(self) -> list[int]:
        return [child.process.pid for child in self._children]

    def submit(self, items: list[Checks]) -> asyncio.Future[list[bool]]:
        """Whether each item's checks all verify, from the next child in turn; fails with CheckProcessGone."""
        return self._next(len(items), lambda _: check_child.request(items), check_child.verified)

    def verify(
        self, records: Sequence[check_child.Record], registry: KeyRegistry, at: datetime
    ) -> asyncio.Future[list[bool]]:
        """Whether each record verifies at `at` against `registry` (`contracts.signing.verify`), from the next child
        in turn, which is sent the registry the first time it is asked with it; fails with CheckProcessGone."""

        def frame(child: ChildLink) -> bytes:
            request = check_child.records_request(at, registry, child.registry != registry.digest, records)
            child.registry = registry.digest
            return request

        return self._next(len(records), frame, check_child.verified)

    def sign(self, secret: bytes, key_id: str, values: list[bytes]) -> asyncio.Future[list[bytes]]:
        """Unsigned events' bytes signed by this key (`contracts.signing.value_signing`; empty where one could not
        be), from the next child in turn; fails with CheckProcessGone."""
        return self._next(
            len(values), lambda _: check_child.signing_request(secret, key_id, values), check_child.signed
        )

    def _next(
        self, count: int, frame: Callable[[ChildLink], bytes], read: Callable[[bytes, int], list[T] | None]
    ) -> asyncio.Future[list[T]]:
        if not self._children:
            return failed(CheckProcessGone("no check process is running"))
        self._turn = (self._turn + 1) % len(self._children)
        self.sent += count
        child = self._children[self._turn]
        return child.send(lambda: frame(child), lambda body: read(body, count))

    async def answered(self, future: asyncio.Future[list[T]]) -> list[T]:
        """A chunk's answer; a child silent for `answer_seconds` is given up with the others, as if it had died."""
        try:
            async with asyncio.timeout(self._answer_seconds):
                return await asyncio.shield(future)
        except TimeoutError:
            self._gone(CheckProcessGone(f"a check process gave no answer within {self._answer_seconds} s"))
            raise CheckProcessGone(f"no answer within {self._answer_seconds} s") from None

    async def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        started: list[ChildLink] = []
        try:
            for _ in range(self._count):
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    check_child.__name__,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env=env,
                    cwd=_ROOT,
                )
                started.append(ChildLink(process, self._gone))
            async with asyncio.timeout(STARTING_SECONDS):
                await asyncio.gather(*(child.greeted() for child in started))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, CheckProcessGone) as error:
            pause = self._pause_after_failure()
            self._log.warning(
                "check_processes_not_started",
                error_class=type(error).__name__,
                error=str(error),
                restart_in_seconds=pause,
            )
            await asyncio.gather(*(child.close() for child in started))
            return
        finally:
            self._starting = None
        if self._closed:
            await asyncio.gather(*(child.close() for child in started))
            return
        self._children = started
        self._started_at = asyncio.get_running_loop().time()
        self._log.info("check_processes_started", pids=self.pids)

    def _gone(self, error: CheckProcessGone) -> None:
        if self._closed or not self._children:
            return
        children, self._children = self._children, []
        pause = self._pause_after_failure()
        self._log.warning("check_process_gone", error=str(error), restart_in_seconds=pause)
        for child in children:
            child.fail_waiting(error)  # at once: a stopped child may take a while to close
            closing = asyncio.get_running_loop().create_task(child.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    def _pause_after_failure(self) -> float:
        """The pause, doubled per failure in a row (ended by ten minutes' service), at most five minutes."""
        self._on_failure()
        now = asyncio.get_running_loop().time()
        if self._started_at is not None and now - self._started_at >= SERVED_SECONDS:
            self._failures = 0
        pause: float = min(self._restart_pause * 2**self._failures, LONGEST_PAUSE_SECONDS)
        self._failures += 1
        self._not_before = now + pause
        return pause

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        children, self._children = self._children, []
        await asyncio.gather(*(child.close() for child in children), *self._closing)
