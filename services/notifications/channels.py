"""The two channels: e-mail over SMTP (aiosmtplib) and signed webhooks (httpx); each send says how it went."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from email.utils import formataddr, formatdate, parseaddr
from typing import Final, Protocol

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


MAX_LINE_BYTES: Final = 998
"""RFC 5322's limit on a line; a body with a longer one (a long action item's text) travels in Base64."""
_WORD_BYTES: Final = 42
"""UTF-8 bytes per encoded word: Base64 makes 56 characters of them, 68 with `=?utf-8?b?` and `?=`, so that even
`Subject: ` and its first word keep within the 78 characters a line should (RFC 2047, RFC 5322)."""


def encoded_words(text: str) -> str:
    """A header value as RFC 2047 encoded words, folded one word a line; a character is never split."""
    words, chunk = [], b""
    for character in text:
        raw = character.encode()
        if len(chunk) + len(raw) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += raw
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def header_value(text: str) -> str:
    """Printable ASCII of a reasonable length as it is; anything else (Norwegian letters, a line break that would
    start a header of its own, a very long text) as encoded words."""
    plain = text.isascii() and text.isprintable() and len(text) <= 900
    return text if plain else encoded_words(text)


class Email:
    """E-mail over SMTP: a plain-text UTF-8 message, composed here. The standard library's default policy parsed
    every header again as it was set and folded them character by character, which took 2.3 ms an e-mail, more
    than the rest of the service's work on it."""

    def __init__(self, settings: NotificationsSettings, sessions: SmtpSessions) -> None:
        self._s = settings
        self._sessions = sessions
        name, self._sender = parseaddr(settings.mail_from)
        self._from = formataddr((header_value(name), self._sender)) if name else self._sender

    def _composed(self, message: Outgoing) -> bytes:
        text = message.body.encode()
        # Split as bytes, at CR and LF only: a text's own U+2028 or form feed is content, not a line break.
        lines = text.splitlines()
        long_lines = any(len(line) > MAX_LINE_BYTES for line in lines)
        body = (
            base64.encodebytes(text).replace(b"\n", b"\r\n")
            if long_lines
            else b"".join(line + b"\r\n" for line in lines)
        )
        headers = (
            f"From: {self._from}",
            f"To: {message.address}",
            f"Subject: {header_value(message.subject)}",
            f"Date: {formatdate(message.timestamp, usegmt=True)}",
            # Stable across retries, so a receiver can drop the copy sent in the crash window.
            f"Message-ID: <{message.notification_id}@notifications.lhl.invalid>",
            # RFC 3834: keeps out-of-office replies from answering a machine.
            "Auto-Submitted: auto-generated",
            f"{NOTIFICATION_HEADER}: {message.notification_id}",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            f"Content-Transfer-Encoding: {'base64' if long_lines else '8bit'}",
        )
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + body

    async def send(self, message: Outgoing) -> Sent:
        if not is_email_address(message.address):
            return Sent(ok=False, error=f"invalid e-mail address of contact point: {message.address!r}", permanent=True)
        raw = self._composed(message)
        try:
            async with self._sessions.session() as smtp:
                await smtp.sendmail(self._sender, [message.address], raw)
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
