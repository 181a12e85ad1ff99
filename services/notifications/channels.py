"""The two channels: e-mail over SMTP (aiosmtplib) and signed webhooks (httpx); each send says how it went."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib
import httpx

from runtime import webhook_targets
from runtime.webhook_targets import TargetRefused, WebhookTargets
from services.notifications.attempts import DELIVERED, Sent
from services.notifications.domain import http_status_is_permanent, is_email_address, smtp_code_is_permanent
from services.notifications.settings import NotificationsSettings
from services.notifications.smtp_sessions import SmtpSessions

SIGNATURE_HEADER = "X-LHL-Signature"
TIMESTAMP_HEADER = "X-LHL-Timestamp"
NOTIFICATION_HEADER = "X-LHL-Notification-Id"


@dataclass(frozen=True)
class Outgoing:
    notification_id: str
    channel: str
    address: str
    signing_secret: str | None
    subject: str
    body: str
    payload: bytes
    timestamp: int


class Channel(Protocol):
    async def send(self, message: Outgoing) -> Sent: ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 over `<timestamp>.<body>`, as documented in the service's README."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Email:
    def __init__(self, settings: NotificationsSettings, sessions: SmtpSessions) -> None:
        self._s = settings
        self._sessions = sessions

    async def send(self, message: Outgoing) -> Sent:
        if not is_email_address(message.address):
            return Sent(ok=False, error=f"invalid e-mail address of contact point: {message.address!r}", permanent=True)
        mail = EmailMessage()
        mail["From"] = self._s.mail_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(message.timestamp, usegmt=True)
        # Stable across retries, so a receiver can drop the copy sent in the crash window.
        mail["Message-ID"] = f"<{message.notification_id}@notifications.lhl.invalid>"
        # RFC 3834: keeps out-of-office replies from answering a machine.
        mail["Auto-Submitted"] = "auto-generated"
        mail[NOTIFICATION_HEADER] = message.notification_id
        mail.set_content(message.body)
        try:
            async with self._sessions.session() as smtp:
                await smtp.send_message(mail)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            permanent = all(smtp_code_is_permanent(c) for c in codes)
            refused = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            return Sent(ok=False, error=f"recipient refused: {refused}", permanent=permanent)
        except aiosmtplib.SMTPResponseException as error:
            permanent = smtp_code_is_permanent(error.code)
            return Sent(ok=False, error=f"SMTP {error.code}: {error.message}", permanent=permanent)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return Sent(ok=False, error=f"{type(error).__name__}: {error}")
        return DELIVERED


class Webhook:
    def __init__(self, client: httpx.AsyncClient, targets: WebhookTargets) -> None:
        self._client = client
        self._targets = targets

    async def send(self, message: Outgoing) -> Sent:
        if message.signing_secret is None:
            return Sent(ok=False, error="webhook contact point has no signing secret", permanent=True)
        try:
            url = httpx.URL(message.address)
        except httpx.InvalidURL as error:
            return Sent(ok=False, error=f"invalid webhook URL: {error}", permanent=True)
        if url.scheme not in ("http", "https"):
            return Sent(ok=False, error=f"invalid webhook URL: scheme {url.scheme!r} is not http(s)", permanent=True)
        try:
            target = await self._targets.pin(url)
        except TargetRefused as refused:
            return Sent(ok=False, error=f"webhook address refused: {refused}", permanent=True)
        except OSError as error:
            return Sent(ok=False, error=f"webhook host does not resolve: {error}")
        headers = {
            "Content-Type": "application/cloudevents+json",
            TIMESTAMP_HEADER: str(message.timestamp),
            SIGNATURE_HEADER: sign(message.signing_secret, message.timestamp, message.payload),
            NOTIFICATION_HEADER: message.notification_id,
        }
        try:
            answer = await webhook_targets.post(self._client, target, message.payload, headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            return Sent(ok=False, error=f"invalid webhook URL: {error}", permanent=True)
        except httpx.HTTPError as error:
            return Sent(ok=False, error=f"{type(error).__name__}: {error}")
        if 200 <= answer.status < 300:
            return DELIVERED
        return Sent(
            ok=False,
            error=f"HTTP {answer.status} from webhook",
            permanent=http_status_is_permanent(answer.status),
        )
