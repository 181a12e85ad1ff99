"""A real SMTP server (aiosmtpd) and a real HTTP server for webhooks, both on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.http import LOCAL_RECEIVERS, LocalHttpServer, Request, free_port


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        content: str = self.message.get_content()
        return content


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._server.lock:
            self._server.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self._server.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = Mail(tuple(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default))
        with self._server.lock:
            self._server.mails.append(mail)
        # The message is in: a slow answer keeps the sender waiting between acceptance and its reply.
        await asyncio.sleep(self._server.answer_after_seconds)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    refused: set[str] = field(default_factory=set)
    answer_after_seconds: float = 0.0
    sessions: int = 0
    """Conversations opened (EHLO received)."""
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.to]


class WebhookServer(LocalHttpServer):
    """Answers each POST with the next scripted status (then 200), and records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []
        self.requests: list[Request] = []

    @property
    def url(self) -> str:
        return f"http://{LOCAL_RECEIVERS}:{self.port}/hooks/lhl"

    def answer(self, request: Request) -> bytes:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
