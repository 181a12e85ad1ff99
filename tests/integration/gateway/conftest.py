"""Fixtures of the gateway's tests: the SMTP server the notifications service tells recipients through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.notifications.servers import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
