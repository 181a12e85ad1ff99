"""Local HTTP/1.1 servers for the tests (a webhook receiver, a trace collector), on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

LOCAL_RECEIVERS = "127.0.0.1"
"""Where the tests' servers listen: a loopback address, which a webhook may reach only when the notifications
service's operator setting (webhook_allowed_hosts) names it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL_RECEIVERS, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> Request:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if ":" in line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(head[0].split(" ")[1], headers, body)


class LocalHttpServer:
    """Reads each request whole and writes what `answer` returns; one request per connection."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, LOCAL_RECEIVERS, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def answer(self, request: Request) -> bytes:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(self.answer(await read_request(reader)))
            await writer.drain()
        finally:
            writer.close()
