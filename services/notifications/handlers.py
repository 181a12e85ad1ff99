"""Thin handlers: decide who is told of an event and write one delivery row per recipient contact point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts import catalog, reference, topics
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from runtime.handling import Handler, HandlerContext
from services.notifications import domain, templates
from services.notifications.repository import deliveries, subscriptions

CONSUMED_TOPICS = (topics.MEETINGS_EVENTS, topics.EVALUATIONS_EVENTS, topics.AGREEMENT_INGRESS)


@dataclass(frozen=True)
class Deps:
    agreements: Mapping[str, reference.Agreement]
    regions: reference.Regions
    organisations: reference.Organisations
    own_source: str
    rejection_window: timedelta = timedelta(minutes=15)

    def office_of(self) -> dict[str, str]:
        return {o.region: o.id for o in self.organisations.organisations if o.kind == "county_governor" and o.region}

    def frame(self, event: CloudEvent, agreement_id: str, region: str | None) -> templates.Frame:
        agreement = self.agreements.get(agreement_id)
        title = f"{agreement.title} ({agreement_id})" if agreement else agreement_id
        region_name = region
        if region is not None:
            try:
                region_name = self.regions.office(region, event.time.date()).name_on(event.time.date()) or region
            except reference.ReferenceDataError:
                region_name = region
        return templates.Frame(title, region_name, event.id, event.source, event.correlationid)


async def notify(deps: Deps, ctx: HandlerContext, data: EventData) -> None:
    """Tell the default audience and every recipient whose filters pick the event, once per contact point."""
    event = ctx.event
    if domain.is_own_outcome(event.type, event.source, deps.own_source):
        return
    agreement_id = domain.agreement_of(data)
    agreement = deps.agreements.get(agreement_id)
    audience = domain.default_audience(data, agreement.parties if agreement else (), deps.office_of())
    region = domain.region_of(data)
    subs = await ctx.shared.once("subscriptions", lambda: subscriptions.load_subscriptions(ctx.conn))
    chosen = domain.recipients_for(subs, audience, event.type, agreement_id, region, event.source)
    if not chosen:
        return
    message = templates.render(data, deps.frame(event, agreement_id, region))
    created = 0
    for recipient, point in domain.contact_points_of(subs, chosen):
        row = deliveries.NewDelivery.to(
            recipient,
            point,
            about=(event.source, event.id, event.type),
            subject=message.subject,
            body=message.body,
            payload=event.to_bytes(),
            correlation_id=event.correlationid,
            agreement_id=agreement_id,
            region=region,
            traceparent=event.traceparent,
        )
        created += await deliveries.add_delivery(ctx.conn, row, ctx.now)
    ctx.log.info("notifications_planned", recipients=[r.recipient_id for r in chosen], deliveries=created)


def routes(deps: Deps) -> dict[str, Mapping[str, Handler]]:
    """Every event type of the consumed topics; types nobody is told about by default are cheap no-ops."""

    async def on_event(ctx: HandlerContext, data: EventData) -> None:
        if templates.has_template(type(data)):
            await notify(deps, ctx, data)

    return {topic: {kind.name: on_event for kind in catalog.on_topic(topic)} for topic in CONSUMED_TOPICS}
