"""E-mails share an SMTP connection while it serves: a failed conversation is never reused, an idle one is replaced,
and the connections are closed when the worker stops."""

from __future__ import annotations

from services.notifications.channels import Email, Outgoing
from services.notifications.settings import NotificationsSettings
from services.notifications.smtp_sessions import SmtpSessions
from tests.integration.notifications.servers import SmtpServer

REFUSED = "avvist@kommune.lhl.test"


def mail_to(address: str, n: int) -> Outgoing:
    return Outgoing(f"n-{n}", "email", address, None, "Emne", "Påminnelse: tiltak forfaller", b"{}", 1700000000)


async def test_messages_share_one_connection_until_a_conversation_fails_or_it_idles_too_long(
    smtp: SmtpServer,
) -> None:
    smtp.refused.add(REFUSED)
    settings = NotificationsSettings(smtp_host="127.0.0.1", smtp_port=smtp.port)
    now = [0.0]
    sessions = SmtpSessions(settings, idle_seconds=20, clock=lambda: now[0])
    email = Email(settings, sessions)

    sent = [await email.send(mail_to(f"post{n}@kommune.lhl.test", n)) for n in range(3)]
    assert [s.ok for s in sent] == [True, True, True]
    assert (len(smtp.mails), smtp.sessions, sessions.opened) == (3, 1, 1)

    refused = await email.send(mail_to(REFUSED, 3))
    assert (refused.ok, refused.permanent) == (False, True)
    assert (await email.send(mail_to("post4@kommune.lhl.test", 4))).ok
    assert (smtp.sessions, sessions.opened) == (2, 2)  # the refused conversation's connection was not reused

    now[0] += 21
    assert (await email.send(mail_to("post5@kommune.lhl.test", 5))).ok
    assert (smtp.sessions, sessions.opened) == (3, 3)
    assert [m.to for m in smtp.mails] == [(f"post{n}@kommune.lhl.test",) for n in (0, 1, 2, 4, 5)]
    assert "Påminnelse" in smtp.mails[-1].body

    await sessions.aclose()
    assert (await email.send(mail_to("post6@kommune.lhl.test", 6))).ok
    assert (smtp.sessions, sessions.opened) == (4, 4)  # nothing idle was left after the close
