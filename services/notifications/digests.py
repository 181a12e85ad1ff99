"""Rejections told to a publisher's e-mail contact once per source and window, not once per event.

A careless publisher's burst of 2,272 rejected events sent 2,272 e-mails at once. Now the first rejection of a
source opens a window (REJECTION_DIGEST_SECONDS, 15 minutes by default) and arms a durable timer; rejections
that follow join it; when it closes, one e-mail per contact point lists them (the first REJECTION_DIGEST_MAX_LISTED,
with a count per reason for all). So a source's contact gets at most one such e-mail per window. Webhooks still get
one signed notice per rejected event: a machine-readable contract for each, which a system can take in bulk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from runtime import timers
from runtime.db import Connection
from runtime.timers import TimerContext, TimerHandler
from services.notifications import domain, templates
from services.notifications.repository import deliveries, rejections, subscriptions
from services.notifications.repository.rejections import Rejection

TIMER_KIND = "rejection_digest"


async def note_rejection(conn: Connection, rejection: Rejection, now: datetime, window: timedelta) -> str:
    """Add the rejection to its source's open window (opening one, with its timer, if none is); returns its id."""
    window_id, closes_at, opened = await rejections.open_window(conn, rejection.event_source, now, window)
    await rejections.note(conn, window_id, rejection, now)
    if opened:
        payload: Mapping[str, str] = {"window_id": window_id, "source": rejection.event_source}
        await timers.schedule(conn, f"rejection-digest/{window_id}", TIMER_KIND, closes_at, payload)
    return window_id


def tell_rejections(max_listed: int) -> TimerHandler:
    """The timer handler that closes a window and plans its e-mail to every e-mail contact of the source."""

    async def fire(tctx: TimerContext) -> None:
        window_id, source = tctx.timer.payload["window_id"], tctx.timer.payload["source"]
        opened, listed = await rejections.close_window(tctx.conn, window_id, tctx.now)
        if not listed:
            return
        subs = await subscriptions.load_subscriptions(tctx.conn)
        chosen = domain.recipients_for_source(subs, source)
        message = templates.render_rejections(source, listed, opened, tctx.now, max_listed)
        summary = {"source": source, "rejected": [r.event_id for r in listed]}
        for recipient, point in domain.contact_points_of(subs, chosen):
            if point.channel != "email":
                continue
            about = f"rejections:{window_id}"
            row = deliveries.NewDelivery.to(
                recipient,
                point,
                about=(source, about, domain.DEAD_LETTER_TYPE),
                subject=message.subject,
                body=message.body,
                payload=json.dumps(summary, ensure_ascii=False).encode(),
                correlation_id=about,
            )
            await deliveries.add_delivery(tctx.conn, row, tctx.now)

    return fire
