"""How a send attempt's result is judged: delivered, worth retrying, or permanent."""

from __future__ import annotations

import httpx
import pytest

from runtime.webhook_targets import WebhookTargets
from services.notifications.channels import Email, Outgoing, Webhook
from services.notifications.settings import NotificationsSettings
from services.notifications.smtp_sessions import SmtpSessions

PUBLIC = "93.184.215.14"


async def resolves_publicly(host: str, port: int) -> list[str]:
    return [PUBLIC]


def public_targets() -> WebhookTargets:
    return WebhookTargets(resolve=resolves_publicly)


def outgoing(address: str, channel: str = "webhook", secret: str | None = "s") -> Outgoing:
    return Outgoing("n-1", channel, address, secret, "Emne", "Tekst", b'{"id":"e-1"}', 1700000000)


def client_answering(status: int) -> httpx.AsyncClient:
    """An answer as a transport hands it over from the network: a stream, not yet read."""
    answer = lambda request: httpx.Response(status, stream=httpx.ByteStream(b""))  # noqa: E731
    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("status", "ok", "permanent"),
    [(200, True, False), (204, True, False), (500, False, False), (429, False, False), (410, False, True)],
)
async def test_a_webhook_answer_is_judged_by_its_status(status: int, ok: bool, permanent: bool) -> None:
    async with client_answering(status) as client:
        sent = await Webhook(client, public_targets()).send(outgoing("https://mottaker.example/hook"))
    assert (sent.ok, sent.permanent) == (ok, permanent)


async def test_a_webhook_url_that_is_not_http_is_a_permanent_error() -> None:
    async with client_answering(200) as client:
        sent = await Webhook(client, public_targets()).send(outgoing("ftp://mottaker.example/hook"))
    assert sent.permanent
    assert sent.error is not None
    assert "invalid webhook URL" in sent.error


async def test_an_unreachable_webhook_is_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        sent = await Webhook(client, public_targets()).send(outgoing("https://mottaker.example/hook"))
    assert (sent.ok, sent.permanent) == (False, False)


async def test_an_invalid_email_address_is_a_permanent_error_without_contacting_the_server() -> None:
    settings = NotificationsSettings(smtp_port=9)
    sent = await Email(settings, SmtpSessions(settings)).send(outgoing("ikke-en-adresse", "email", None))
    assert sent.permanent
    assert sent.error is not None
    assert "invalid e-mail address" in sent.error
