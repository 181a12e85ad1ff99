"""How a send attempt's result is judged: delivered, worth retrying, or permanent."""

from __future__ import annotations

import email
import email.message
import email.policy

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


def _composed(subject: str, body: str, mail_from: str = "Leve hele livet <lhl@lhl.invalid>") -> bytes:
    settings = NotificationsSettings(smtp_port=9, mail_from=mail_from)
    message = Outgoing("n-1", "email", "ks-vestland@example.no", None, subject, body, b"", 1700000000)
    return Email(settings, SmtpSessions(settings))._composed(message)


def _read(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    assert not parsed.defects
    return parsed


def test_an_email_in_norwegian_reads_back_as_written_with_its_headers() -> None:
    subject = "Ny oppgave fra kontaktmøtet i Vestland: «Invitere kommunene til læringsnettverk om mat og måltider»"
    body = "Hei,\n\nDere har fått en ny oppgave. Frist: 1. april 2022.\n\nMed vennlig hilsen\nLeve hele livet – KS"
    raw = _composed(subject, body, mail_from="Leve hele livet – varsler <lhl@lhl.invalid>")
    mail = _read(raw)
    # On the wire every line ends in CRLF, as SMTP has it.
    assert (mail["Subject"], mail.get_content()) == (subject, (body + "\n").replace("\n", "\r\n"))
    assert (mail["From"].addresses[0].display_name, mail["From"].addresses[0].addr_spec) == (
        "Leve hele livet – varsler",
        "lhl@lhl.invalid",
    )
    assert (mail["To"], mail["Message-ID"], mail["Auto-Submitted"]) == (
        "ks-vestland@example.no",
        "<n-1@notifications.lhl.invalid>",
        "auto-generated",
    )
    assert mail["Content-Transfer-Encoding"] == "8bit"
    header_lines = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in header_lines if not line.startswith(b"From:"))
    assert len([line for line in header_lines if line.startswith(b" ")]) >= 2  # the subject, folded


def test_a_line_break_in_a_subject_cannot_start_a_header_of_its_own() -> None:
    mail = _read(_composed("Emne\r\nBcc: alle@example.no", "Tekst"))
    assert mail["Bcc"] is None
    assert "alle@example.no" in mail["Subject"]


def test_a_body_line_longer_than_smtp_allows_travels_in_base64() -> None:
    body = "Oppgave: " + "læringsnettverk " * 100
    raw = _composed("Emne", body)
    mail = _read(raw)
    assert mail["Content-Transfer-Encoding"] == "base64"
    assert mail.get_content() == body
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_a_line_separator_or_form_feed_in_a_text_is_kept_and_only_cr_and_lf_break_lines() -> None:
    body = "Oppgave: mat\u2028og måltider\x0cside 2\nFrist: 1. april"
    mail = _read(_composed("Emne", body))
    assert mail.get_content() == "Oppgave: mat\u2028og måltider\x0cside 2\r\nFrist: 1. april\r\n"
