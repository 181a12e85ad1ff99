"""`GET /feed`: the verified events of the audit trail, in the order recorded, for systems that poll.

Read rights: an organisation without a region (a ministry, KS, a directorate) reads every event; a regional one
(county governor office, KS's regional office, the development centre) reads its region's events and the national
ones. Dead letters and records that did not verify are not in the feed (a publisher sees its own in its receipts).
The cursor is the audit's sequence number, which has no gaps and survives restarts; it is opaque to callers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from contracts import topics
from services.gateway import problems, repository
from services.gateway.auth import Caller
from services.gateway.problems import Problem
from services.gateway.resources import Reader, Res

router = APIRouter(tags=["feed"])

_CURSOR_PREFIX: Final = "seq:"


class FeedPage(BaseModel):
    events: list[dict[str, Any]] = Field(description="CloudEvents as recorded (signed: dssematerial verifies).")
    next: str = Field(description="The cursor to pass as `after` for the next page (the same when nothing is new).")


def cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def position(after: str | None) -> int:
    if not after:
        return 0
    try:
        text = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        return max(0, int(text.removeprefix(_CURSOR_PREFIX)))
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise Problem(
            400, "invalid_cursor", "The cursor is not one this feed gave", "after: pass the `next` of a page"
        ) from error


def visible_regions(caller: Caller) -> tuple[str, ...] | None:
    """None: every region. A regional organisation: its own region and the national level."""
    region = caller.organisation.region
    return None if region is None else (region, topics.NATIONAL)


@router.get(
    "/feed",
    summary="Events after a cursor, oldest first",
    responses={
        400: problems.response_schema("The cursor is not one this feed gave."),
        401: problems.response_schema("No valid bearer token."),
        403: problems.response_schema("The token lacks lhl:events.read."),
    },
)
async def get_feed(
    caller: Reader,
    resources: Res,
    response: Response,
    after: Annotated[str | None, Query(description="The `next` of the previous page; none: from the start.")] = None,
    type: Annotated[str | None, Query(description="Only events of this type.")] = None,
    region: Annotated[str | None, Query(description="Only events of this region (or `national`).")] = None,
    limit: Annotated[int, Query(ge=1, description="Most events on the page (capped by the gateway).")] = 100,
) -> FeedPage:
    start = position(after)
    settings = resources.settings
    async with resources.pool.acquire() as conn:
        rows = await repository.feed_page(
            conn,
            settings.audit_schema,
            after=start,
            limit=min(limit, settings.feed_max_limit),
            dead_letter_topic=settings.topic(topics.DEAD_LETTER),
            event_type=type,
            region=region,
            regions_visible=visible_regions(caller),
        )
    next_cursor = cursor(rows[-1].seq if rows else start)
    response.headers["Link"] = f'</feed?after={next_cursor}>; rel="next"'
    return FeedPage(events=[r.envelope or {} for r in rows], next=next_cursor)
