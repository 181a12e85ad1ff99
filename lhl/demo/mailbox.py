"""A local SMTP sink for the demo: accepts every message and counts them per recipient."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller


class SinkUnavailableError(RuntimeError):
    """aiosmtpd is missing: it comes with the `local` extra, which the service image leaves out."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Mailbox:
    """aiosmtpd on 127.0.0.1 and a free port; thread-safe counts of who received how many messages."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.received: Counter[str] = Counter()
        self.subjects: list[str] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        # Imported here, not above: `lhl` imports this module, and the image has `lhl` but not aiosmtpd.
        try:
            from aiosmtpd.controller import Controller
        except ModuleNotFoundError as error:
            raise SinkUnavailableError(
                "the local SMTP sink needs aiosmtpd, which comes with the `local` extra: `make venv` installs it"
            ) from error
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = next(
            (
                line[9:]
                for line in envelope.content.decode(errors="replace").splitlines()
                if line.startswith("Subject: ")
            ),
            "",
        )
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.received[recipient] += 1
            self.subjects.append(subject)
        return "250 Message accepted for delivery"

    def counts(self) -> list[tuple[str, int]]:
        with self._lock:
            return sorted(self.received.items(), key=lambda item: (-item[1], item[0]))
