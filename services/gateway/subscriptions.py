"""`/subscriptions`: webhook subscriptions an organisation makes, lists and deletes itself, with filters.

The gateway checks what it can answer at once (the token's scope, the filters, the caller's read rights, where the
endpoint points) and writes the request into the notifications service's table through the narrow grant that
service gives it. Everything after is the notifications service's: it asks the endpoint to echo a challenge and
delivers nothing before it did (the status then turns from `pending` to `active`, or to `failed` with the reason),
checks the endpoint's address again at every send, and signs every request with the organisation's webhook secret.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import asyncpg
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError

from contracts import catalog
from contracts.reference import ReferenceData
from runtime.webhook_targets import WebhookTargets
from services.gateway import problems
from services.gateway import subscriptions_repository as repository
from services.gateway.auth import Caller
from services.gateway.feed import visible_regions
from services.gateway.problems import FieldProblem, Problem
from services.gateway.publish import read_body
from services.gateway.resources import Res, needs
from services.gateway.settings import SUBSCRIPTIONS_SCOPE, GatewaySettings
from services.gateway.subscriptions_repository import NewSubscription, SubscriptionRow

router = APIRouter(tags=["subscriptions"])
_ON_TOPICS: Final = frozenset(t.name for t in catalog.EVENT_TYPES)
"""A webhook-only type (a rejection notice, a validation request) is never an event to subscribe to."""
Subscriber = Annotated[Caller, Depends(needs(SUBSCRIPTIONS_SCOPE))]
Names = tuple[Annotated[str, Field(min_length=1, max_length=200)], ...]


class SubscriptionRequest(BaseModel):
    """What to deliver where; every filter list empty means any, and all of them must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: AnyHttpUrl = Field(
        description="Where to POST each event (https in production): a public address, never loopback, private or "
        "link-local. It must answer the validation request before the first delivery."
    )
    event_types: Names = Field(
        default=(), max_length=100, description="Event types, e.g. no.levehelelivet.report.overdue.v1."
    )
    regions: Names = Field(
        default=(), max_length=50, description="Region ids (or `national`); a regional organisation gets only its own."
    )
    sources: Names = Field(default=(), max_length=50, description="CloudEvents sources of the events.")
    agreements: Names = Field(default=(), max_length=20, description="Agreement ids.")


class Subscription(BaseModel):
    id: str = Field(description="The subscription's id, also sent as X-LHL-Subscription-Id in the validation request.")
    endpoint: str = Field(description="Where events are delivered.")
    event_types: list[str] = Field(description="Event types picked; empty: any.")
    regions: list[str] = Field(description="Regions picked; empty: any.")
    sources: list[str] = Field(description="Sources picked; empty: any.")
    agreements: list[str] = Field(description="Agreements picked; empty: any.")
    status: Literal["pending", "active", "failed"] = Field(
        description="`pending` until the endpoint echoed the validation request's challenge, then `active` "
        "(deliveries start); `failed` when it never did or may not be reached. Nothing is delivered unless active."
    )
    reason: str | None = Field(description="Why it is not active yet, or failed: the last validation's outcome.")
    validation_attempts: int = Field(description="Validation requests sent so far.")
    created_at: datetime = Field(description="When it was made.")
    validated_at: datetime | None = Field(description="When the endpoint answered the validation request.")


class Subscriptions(BaseModel):
    subscriptions: list[Subscription] = Field(description="The caller's organisation's subscriptions, oldest first.")


def shown(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.subscription_id,
        endpoint=row.endpoint,
        event_types=list(row.event_types),
        regions=list(row.regions),
        sources=list(row.sources),
        agreements=list(row.agreements),
        status=row.status,  # type: ignore[arg-type]  # the table's CHECK constraint holds it to the three
        reason=row.reason,
        validation_attempts=row.attempts,
        created_at=row.created_at,
        validated_at=row.validated_at,
    )


def _invalid(errors: list[FieldProblem]) -> Problem:
    return Problem(
        400, "invalid_subscription", "The subscription is not valid", "each wrong field is listed", errors=errors
    )


def parse(body: bytes) -> SubscriptionRequest:
    try:
        return SubscriptionRequest.model_validate_json(body)
    except ValidationError as error:
        errors = [
            FieldProblem(field=".".join(str(p) for p in e["loc"]) or "the subscription", detail=e["msg"])
            for e in error.errors(include_url=False)
        ]
        raise _invalid(errors) from error


def within_rights(asked: SubscriptionRequest, caller: Caller, settings: GatewaySettings) -> SubscriptionRequest:
    """The filters must name what exists, and a regional organisation subscribes to what the feed shows it."""
    errors = [
        FieldProblem(field="event_types", detail=f"{name} is not an event type published on the broker")
        for name in asked.event_types
        if name not in _ON_TOPICS
    ]
    known = ReferenceData.load(settings.agreements_dir).agreements
    errors += [
        FieldProblem(field="agreements", detail=f"{a} is not an agreement of the reference data")
        for a in asked.agreements
        if a not in known
    ]
    visible = visible_regions(caller)
    if visible is not None:
        errors += [
            FieldProblem(
                field="regions", detail=f"{r} is outside the organisation's read rights ({', '.join(visible)})"
            )
            for r in asked.regions
            if r not in visible
        ]
        if not asked.regions:
            asked = asked.model_copy(update={"regions": visible})
    if errors:
        raise _invalid(errors)
    return asked


async def check_endpoint(endpoint: str, settings: GatewaySettings) -> None:
    """The notifications service's own rule, refused at once; it checks again at the handshake and every send."""
    refused = await WebhookTargets(settings.webhook_allowed_hosts).refusal(endpoint)
    if refused is not None:
        raise Problem(
            400,
            "webhook_target_refused",
            "The endpoint may not receive webhooks",
            f"a webhook may only reach public addresses: {refused}",
            errors=[FieldProblem(field="endpoint", detail=f"{refused}; a webhook may only reach public addresses")],
        )


@asynccontextmanager
async def available() -> AsyncIterator[None]:
    """The table and the grants are the notifications service's, made when it starts: until then, say so."""
    try:
        yield
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError, asyncpg.InsufficientPrivilegeError) as error:
        raise Problem(
            503,
            "subscriptions_unavailable",
            "Subscriptions are not available yet",
            "the notifications service has not prepared them; retry in a minute",
            headers={"Retry-After": "60"},
        ) from error


def _not_found(subscription_id: str) -> Problem:
    # The same answer for another organisation's subscription as for none, so ids reveal nothing.
    return Problem(
        404, "subscription_not_found", "No such subscription", f"the organisation has no subscription {subscription_id}"
    )


_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SubscriptionRequest.model_json_schema()}},
    }
}
_AUTH: Final[dict[int | str, dict[str, Any]]] = {
    401: problems.response_schema("No valid bearer token."),
    403: problems.response_schema(f"The token lacks {SUBSCRIPTIONS_SCOPE}."),
    503: problems.response_schema("The notifications service has not prepared subscriptions yet; retry later."),
}
SubscriptionId = Annotated[str, Path(description="The subscription's id.", max_length=100)]


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe a webhook to events",
    response_model=Subscription,
    responses={
        400: problems.response_schema("A wrong field, or an endpoint a webhook may not reach: each named."),
        **_AUTH,
        409: problems.response_schema("The organisation holds as many subscriptions as it may."),
        413: problems.response_schema("The body is too large."),
    },
    openapi_extra=_BODY,
)
async def create_subscription(request: Request, caller: Subscriber, resources: Res, response: Response) -> Subscription:
    """Made `pending`: the endpoint then gets a validation request (a CloudEvent of type
    no.levehelelivet.subscription.validation.v1, signed like every delivery) and must answer 200 with
    `{"challenge": "<data.challenge>"}`. Only then is it `active` and are events delivered to it."""
    settings = resources.settings
    asked = within_rights(parse(await read_body(request, settings.max_body_bytes)), caller, settings)
    await check_endpoint(str(asked.endpoint), settings)
    new = NewSubscription(
        subscription_id=str(uuid.uuid4()),
        organisation=caller.organisation.id,
        endpoint=str(asked.endpoint),
        event_types=asked.event_types,
        regions=asked.regions,
        sources=asked.sources,
        agreements=asked.agreements,
    )
    schema = settings.notifications_schema
    async with available(), resources.pool.acquire() as conn, conn.transaction():
        # One organisation's requests in turn, so two at once cannot both pass the limit.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('subscriptions:' || $1, 0))", new.organisation
        )
        if await repository.count_of(conn, schema, new.organisation) >= settings.max_subscriptions:
            raise Problem(
                409,
                "too_many_subscriptions",
                "The organisation holds as many subscriptions as it may",
                f"at most {settings.max_subscriptions}; delete one first",
            )
        row = await repository.request(conn, schema, new)
    response.headers["Location"] = f"/subscriptions/{row.subscription_id}"
    return shown(row)


@router.get("/subscriptions", summary="The organisation's subscriptions", responses=_AUTH)
async def list_subscriptions(caller: Subscriber, resources: Res) -> Subscriptions:
    async with available(), resources.pool.acquire() as conn:
        rows = await repository.of_organisation(conn, resources.settings.notifications_schema, caller.organisation.id)
    return Subscriptions(subscriptions=[shown(r) for r in rows])


@router.get(
    "/subscriptions/{subscription_id}",
    summary="One subscription, with its validation status",
    responses={**_AUTH, 404: problems.response_schema("The organisation has no such subscription.")},
)
async def get_subscription(subscription_id: SubscriptionId, caller: Subscriber, resources: Res) -> Subscription:
    async with available(), resources.pool.acquire() as conn:
        row = await repository.one(
            conn, resources.settings.notifications_schema, caller.organisation.id, subscription_id
        )
    if row is None:
        raise _not_found(subscription_id)
    return shown(row)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    summary="Delete a subscription: nothing more is delivered to it",
    responses={**_AUTH, 404: problems.response_schema("The organisation has no such subscription.")},
)
async def delete_subscription(subscription_id: SubscriptionId, caller: Subscriber, resources: Res) -> Response:
    async with available(), resources.pool.acquire() as conn:
        removed = await repository.remove(
            conn, resources.settings.notifications_schema, caller.organisation.id, subscription_id, datetime.now(UTC)
        )
    if not removed:
        raise _not_found(subscription_id)
    return Response(status_code=204)
