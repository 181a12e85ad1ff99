"""SMTP connections kept open between deliveries.

A new connection costs a TCP (and, with STARTTLS, a TLS) handshake, the banner, EHLO and the login: as many round
trips as the message itself, and relays limit how often one client may connect. A conversation that failed in any
way is closed, never reused, for its state is unknown; a connection idle for longer than `idle_seconds` is closed
before it is used (a relay drops idle clients), and all are closed when the worker stops. A relay that drops a
connection sooner costs the next message on it a retry, as any failed conversation does.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

import aiosmtplib

from services.notifications.settings import NotificationsSettings

QUIT_SECONDS = 2.0
"""How long a polite QUIT to an idle connection may take before the connection is simply closed."""


class SmtpSessions:
    def __init__(
        self,
        settings: NotificationsSettings,
        *,
        idle_seconds: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s = settings
        self._idle_seconds = idle_seconds
        self._clock = clock
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.opened = 0
        """Connections opened so far (a test counts them)."""

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """A connected, logged-in client for one message; back to the idle ones only if nothing failed."""
        smtp = await self._take()
        try:
            yield smtp
        except BaseException:
            smtp.close()
            raise
        self._idle.append((smtp, self._clock()))

    async def aclose(self) -> None:
        """Say goodbye to the idle connections (when the worker stops)."""
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            await _quit(smtp)

    async def _take(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and self._clock() - since < self._idle_seconds:
                return smtp
            await _quit(smtp)
        password = self._s.smtp_password.get_secret_value() if self._s.smtp_password else None
        smtp = aiosmtplib.SMTP(
            hostname=self._s.smtp_host,
            port=self._s.smtp_port,
            start_tls=self._s.smtp_starttls,
            username=self._s.smtp_username,
            password=password,
            timeout=self._s.smtp_timeout_seconds,
        )
        await smtp.connect()
        self.opened += 1
        return smtp


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit(timeout=QUIT_SECONDS)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        smtp.close()
