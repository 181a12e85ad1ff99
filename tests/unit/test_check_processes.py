"""A large batch's signature checks made in processes of their own: the same answers as checks made in place, in the
order asked, and a child that dies costs only a detour through the threads."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import ed25519
from deploy.system import proc_state
from runtime import check_child, parallel
from runtime.check_child import Checks
from runtime.check_processes import CheckProcesses
from runtime.child_link import CheckProcessGone, ChildLink
from runtime.observability import Metrics

KEY = Ed25519PrivateKey.generate()
SECRET = ed25519.secret_of(KEY)
PUBLIC = SECRET[32:]
ROOT = Path(__file__).resolve().parents[2]
OTHER_PUBLIC = ed25519.secret_of(Ed25519PrivateKey.generate())[32:]


def check(message: bytes, *, signature: bytes | None = None, public: bytes = PUBLIC) -> tuple[bytes, bytes, bytes]:
    return public, ed25519.sign(SECRET, message) if signature is None else signature, message


def kinds_of_items() -> list[Checks]:
    good = check(b"genuine")
    return [
        [good],
        [check(b"changed", signature=ed25519.sign(SECRET, b"original"))],
        [check(b"genuine", public=OTHER_PUBLIC)],
        [check(b"short", signature=b"\x01" * 63)],
        [check(b"long", signature=b"\x01" * 70_000)],  # longer than a frame's length field for it
        [check(b"key", public=b"\x02" * 70_000)],
        [],  # nothing to check: nothing fails
        [good, check(b"second")],
        [good, check(b"second", public=OTHER_PUBLIC)],
        [check(b"x" * 200_000)],  # a large message
    ]


def in_place(items: list[Checks]) -> list[bool]:
    return [all(ed25519.verifies(*one) for one in checks) for checks in items]


async def test_a_check_process_answers_every_kind_of_check_as_it_is_made_in_place(processes: CheckProcesses) -> None:
    items = kinds_of_items()

    answered = await processes.submit(items)

    assert answered == in_place(items) == [True, False, False, False, False, False, True, True, False, True]


async def test_an_item_with_more_checks_than_two_bytes_can_count_is_answered(processes: CheckProcesses) -> None:
    many = [check(b"forged", signature=b"\x01" * 63)] * 70_000

    assert await processes.submit([many, [check(b"genuine")]]) == [False, True]


async def test_chunks_sent_one_after_another_come_back_each_with_its_own_answers(processes: CheckProcesses) -> None:
    chunks = [
        [[check(f"{n}-{i}".encode())] if (n + i) % 3 else [check(b"x", public=OTHER_PUBLIC)] for i in range(50)]
        for n in range(9)
    ]

    answers = await asyncio.gather(*(processes.submit(chunk) for chunk in chunks))

    assert answers == [in_place(chunk) for chunk in chunks]


async def test_a_child_that_dies_fails_its_chunks_and_the_children_are_started_again(
    processes: CheckProcesses,
) -> None:
    before = processes.pids
    for pid in before:
        os.kill(pid, signal.SIGKILL)

    with pytest.raises(CheckProcessGone):
        await processes.submit([[check(b"anything")]])
    assert await processes.start()

    assert set(processes.pids).isdisjoint(before)
    assert await processes.submit(kinds_of_items()) == in_place(kinds_of_items())


async def test_children_that_die_again_and_again_are_started_again_less_and_less_often_and_counted() -> None:
    failures = Metrics("audit")
    processes = CheckProcesses(count=1, restart_pause=0.05, on_failure=failures.check_process_failed)
    pauses = []
    try:
        for _ in range(4):
            assert await processes.start()
            with structlog.testing.capture_logs() as logged:
                os.kill(processes.pids[0], signal.SIGKILL)
                with pytest.raises(CheckProcessGone):
                    await processes.submit([[check(b"anything")]])
            pauses += [line["restart_in_seconds"] for line in logged if line["event"] == "check_process_gone"]
            assert not processes.ready()  # not before the pause
            await asyncio.sleep(pauses[-1])
    finally:
        await processes.close()

    assert pauses == [0.05, 0.1, 0.2, 0.4]
    assert failures.registry.get_sample_value("lhl_check_process_failures_total", {"service": "audit"}) == 4


async def test_a_child_that_answers_out_of_turn_is_given_up() -> None:
    # A child that greets, then answers three items to a chunk of one.
    speaks_wrongly = "import sys; o = sys.stdout.buffer; o.write(bytes(4)); o.flush(); sys.stdin.buffer.read(1); " + (
        "o.write(bytes([0, 0, 0, 3, 1, 1, 1])); o.flush(); sys.stdin.read()"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", speaks_wrongly, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    gone: list[CheckProcessGone] = []
    child = ChildLink(process, gone.append)
    await child.greeted()

    with pytest.raises(CheckProcessGone, match=r"answered out of turn \(3 bytes\)"):
        await child.send(lambda: check_child.request([[check(b"one")]]), lambda body: check_child.verified(body, 1))

    assert [str(error) for error in gone] == [f"check process {process.pid}: it answered out of turn (3 bytes)"]
    await child.close()


async def test_a_batch_whose_check_process_died_is_checked_in_the_threads_with_the_same_answers(
    processes: CheckProcesses,
) -> None:
    items = [[check(b"n", public=OTHER_PUBLIC)] if n % 7 == 0 else [check(str(n).encode())] for n in range(300)]
    for pid in processes.pids:
        os.kill(pid, signal.SIGKILL)

    read = await parallel.read_checking_later(lambda checks, made: all(made(*one) for one in checks), items, processes)

    assert read == in_place(items)
    assert read.count(False) == 43


async def test_a_child_that_stops_answering_is_given_up_and_the_batch_checked_in_the_threads() -> None:
    processes = CheckProcesses(count=2, restart_pause=60, answer_seconds=0.5)
    assert await processes.start()
    stopped = processes.pids[0]
    os.kill(stopped, signal.SIGSTOP)
    items = [[check(b"n", public=OTHER_PUBLIC)] if n % 5 == 0 else [check(str(n).encode())] for n in range(300)]
    try:
        async with asyncio.timeout(5):
            read = await parallel.read_checking_later(
                lambda checks, made: all(made(*one) for one in checks), items, processes
            )
        assert read == in_place(items)
        assert processes.pids == []  # both given up, to be started again after the pause
    finally:
        os.kill(stopped, signal.SIGKILL)
        await processes.close()


async def test_a_failed_chunk_nobody_awaits_any_more_leaves_no_error_behind(processes: CheckProcesses) -> None:
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
    for pid in processes.pids:
        os.kill(pid, signal.SIGKILL)
    dead(processes.pids)  # without yielding to the loop: the chunk is written to a pipe nobody reads, which breaks it
    unawaited = processes.submit([[check(b"from a batch that was cancelled")]])  # as a stopping service leaves it
    await asyncio.wait([unawaited])
    await processes.close()  # the dead children closed, their pipes with them

    del unawaited
    gc.collect()

    assert errors == []


async def test_a_chunk_refused_at_once_and_never_awaited_leaves_no_error_behind(processes: CheckProcesses) -> None:
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
    await processes.close()
    refused = processes.submit([[check(b"from a batch cancelled before it awaited its chunk")]])
    assert refused.done()

    del refused
    gc.collect()

    assert errors == []


def dead(pids: list[int]) -> None:
    """Until each process has died (a zombie, or gone): its end of every pipe is closed then."""
    deadline = time.monotonic() + 5
    while any(proc_state(pid) not in (None, "Z", "X") for pid in pids):
        assert time.monotonic() < deadline, f"{pids} still running"
        time.sleep(0.002)


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
async def test_ctrl_c_or_sigterm_sent_to_the_whole_group_leaves_the_children_answering(
    processes: CheckProcesses, sent: signal.Signals
) -> None:
    for pid in processes.pids:
        os.kill(pid, sent)
    await asyncio.sleep(0.2)

    assert await processes.submit([[check(b"still here")]]) == [True]


async def test_closing_ends_the_children_and_a_later_chunk_is_refused() -> None:
    processes = CheckProcesses(count=2)
    assert await processes.start()
    pids = processes.pids

    await processes.close()

    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not processes.ready()
    with pytest.raises(CheckProcessGone):
        await processes.submit([[check(b"late")]])


async def test_begin_starts_the_children_in_the_background_once_and_not_at_all_when_none_are_configured() -> None:
    processes, none = CheckProcesses(count=2), CheckProcesses(count=0)
    try:
        processes.begin()
        processes.begin()  # the start under way is not started again
        none.begin()
        assert (processes.pids, processes.ready()) == ([], False)  # not waited for: it greets a little later
        assert await processes.start()  # waits for the start under way
        pids = processes.pids
        processes.begin()
        assert processes.pids == pids
        assert len(pids) == 2
        assert (none.pids, none.ready()) == ([], False)
    finally:
        await processes.close()


async def test_none_configured_means_none_started_and_the_checks_made_in_the_threads() -> None:
    processes = CheckProcesses(count=0)
    items = [[check(str(n).encode())] for n in range(200)]

    read = await parallel.read_checking_later(lambda checks, made: all(made(*one) for one in checks), items, processes)

    assert not await processes.start()
    assert (processes.pids, processes.sent) == ([], 0)
    assert read == [True] * 200


def test_a_signatures_answer_with_another_count_or_cut_short_is_not_the_requests() -> None:
    one = check_child.LENGTH.pack(1) + b"x"

    assert check_child.signed(one + check_child.LENGTH.pack(0), 2) == [b"x", b""]
    assert check_child.signed(one, 2) is None
    assert check_child.signed(check_child.LENGTH.pack(5) + b"x", 1) is None
    assert check_child.signed(one + b"\x00", 1) is None


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_a_childs_pipes_hold_several_chunks_of_signed_events_so_it_never_waits_for_the_loop_to_read() -> None:
    requests_read, requests = os.pipe()
    answers, answers_written = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-m", check_child.__name__], stdin=requests_read, stdout=answers_written, cwd=ROOT
    )
    os.close(requests_read)
    os.close(answers_written)
    try:
        assert os.read(answers, 4) == bytes(4)  # the greeting: the pipes were widened before it
        sizes = [fcntl.fcntl(end, fcntl.F_GETPIPE_SZ) for end in (requests, answers)]
    finally:
        os.close(requests)
        child.wait(timeout=10)
        os.close(answers)

    most = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert sizes == [min(check_child.PIPE_BYTES, most)] * 2
