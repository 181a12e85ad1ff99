"""One check process (`runtime.check_processes`) as its parent speaks to it: each request framed as
`runtime.check_child` says, its answer read in turn. A child that dies, answers out of turn or whose output ends fails
every request it held (`CheckProcessGone`)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from runtime.check_child import LENGTH

T = TypeVar("T")


class CheckProcessGone(RuntimeError):
    """This work (checks, or events to sign) is to be done some other way: its child died, answered out of turn or fell
    silent."""


class ChildLink:
    """One check process as its parent speaks to it: requests written in turn, answers read in the same turn."""

    def __init__(self, process: asyncio.subprocess.Process, on_gone: Callable[[CheckProcessGone], None]) -> None:
        self.process = process
        self._waiting: deque[tuple[Callable[[bytes], list[Any] | None], asyncio.Future[Any]]] = deque()
        self._on_gone = on_gone
        self.reader: asyncio.Task[None] | None = None
        self.registry = b""
        """The digest of the key registry last sent to the child (`check_child.records_request`)."""

    async def greeted(self) -> None:
        """Wait for the child's empty answer, given once it is ready, then read its answers from here on."""
        assert self.process.stdout is not None
        greeting = await self.process.stdout.readexactly(LENGTH.size)
        if greeting != LENGTH.pack(0):
            raise CheckProcessGone(f"check process {self.process.pid} greeted with {greeting!r}")
        self.reader = asyncio.create_task(self._read(), name=f"check-process-{self.process.pid}")

    def send(self, frame: Callable[[], bytes], read: Callable[[bytes], list[T] | None]) -> asyncio.Future[list[T]]:
        """The request `frame` makes, answered by what `read` finds in the answer (None: not this request's)."""
        if self.reader is None or self.reader.done() or self.process.stdin is None or self.process.stdin.is_closing():
            return failed(CheckProcessGone(f"check process {self.process.pid} has ended"))
        try:
            request = frame()
        except (struct.error, OverflowError, ValueError) as error:  # no record should make one; if one did: in place
            return failed(CheckProcessGone(f"the chunk cannot be framed: {error}"))
        future: asyncio.Future[list[T]] = asyncio.get_running_loop().create_future()
        self._waiting.append((read, future))
        self.process.stdin.write(request)
        return future

    async def _read(self) -> None:
        assert self.process.stdout is not None
        why = "its output ended"
        try:
            while True:
                (size,) = LENGTH.unpack(await self.process.stdout.readexactly(LENGTH.size))
                body = await self.process.stdout.readexactly(size)
                found = self._waiting[0][0](body) if self._waiting else None
                if found is None:
                    why = f"it answered out of turn ({len(body)} bytes)"
                    break
                _, future = self._waiting.popleft()
                if not future.done():  # a caller cancelled while waiting leaves its future behind
                    future.set_result(found)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            why = f"its output ended ({type(error).__name__})"
        gone = CheckProcessGone(f"check process {self.process.pid}: {why}")
        self.fail_waiting(gone)
        self._on_gone(gone)

    def fail_waiting(self, error: CheckProcessGone) -> None:
        while self._waiting:
            _, future = self._waiting.popleft()
            if not future.done():
                _fail(future, error)

    async def close(self) -> None:
        stdin = self.process.stdin
        if stdin is not None:
            stdin.close()
        with contextlib.suppress(ProcessLookupError):
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if stdin is not None:
            # How the pipe closed, taken: a request written after the child died broke it, which Python 3.11.2
            # (Debian's) reports as "Future exception was never retrieved" once the process object is collected;
            # 3.11.7 no longer does.
            with contextlib.suppress(ConnectionError, TimeoutError):
                async with asyncio.timeout(5):
                    await stdin.wait_closed()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        self.fail_waiting(CheckProcessGone(f"check process {self.process.pid} was closed"))


def failed(error: CheckProcessGone) -> asyncio.Future[Any]:
    """A future failed already with `error`, for work no child can take."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    _fail(future, error)
    return future


def _fail(future: asyncio.Future[Any], error: CheckProcessGone) -> None:
    future.set_exception(error)
    future.exception()  # no "never retrieved" when its batch was cancelled before awaiting it; an await still raises
