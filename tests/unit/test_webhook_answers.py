"""A webhook endpoint's answer is read only as far as the service needs: one that answers without end cannot fill
the memory of the service that posts to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from runtime import webhook_targets
from runtime.webhook_targets import ANSWER_LIMIT_BYTES, Pinned


async def answer_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A hostile endpoint: 200, chunked, and chunks for as long as anyone reads."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n")
    chunk = b"x" * 16384
    try:
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def answer_a_byte_at_a_time(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A hostile endpoint: each byte comes well within a read timeout, the whole answer never does."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    try:
        for _ in range(1000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.1)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def answer_briefly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    body = b'{"challenge": "abc"}'
    # 202 only when the request asked for the answer as it is: a compressed answer could be a bomb under the limit.
    status = b"202 Accepted" if b"\r\naccept-encoding: identity\r\n" in request.lower() else b"406 Not Acceptable"
    writer.write(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
    await writer.drain()
    writer.close()


async def serving(handler: object) -> AsyncIterator[Pinned]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield Pinned(httpx.URL(f"http://127.0.0.1:{port}/hook"))


@pytest.fixture
async def endless() -> AsyncIterator[Pinned]:
    async for target in serving(answer_forever):
        yield target


@pytest.fixture
async def trickling() -> AsyncIterator[Pinned]:
    async for target in serving(answer_a_byte_at_a_time):
        yield target


@pytest.fixture
async def brief() -> AsyncIterator[Pinned]:
    async for target in serving(answer_briefly):
        yield target


async def test_an_answer_without_end_is_read_only_to_the_limit_and_said_to_be_cut(endless: Pinned) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await asyncio.wait_for(webhook_targets.post(client, endless, b"{}", {}), timeout=10)
    assert answer.status == 200
    assert answer.cut
    assert answer.body == b"x" * ANSWER_LIMIT_BYTES


async def test_a_short_answer_is_read_whole_and_no_content_coding_is_asked_for(brief: Pinned) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await webhook_targets.post(client, brief, b"{}", {"X-Test": "1"})
    assert (answer.status, answer.body, answer.cut) == (202, b'{"challenge": "abc"}', False)


async def test_an_answer_that_trickles_in_is_given_up_after_the_timeout_for_the_whole_exchange(
    trickling: Pinned,
) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        with pytest.raises(httpx.ReadTimeout, match="no whole answer within 1 s"):
            await asyncio.wait_for(webhook_targets.post(client, trickling, b"{}", {}), timeout=10)
