"""The outcome of telling a recipient about an event."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from contracts.events.base import (
    Attempts,
    BusinessId,
    EventData,
    EventId,
    EventSource,
    EventTypeName,
    KafkaOffset,
    KafkaPartition,
    Moment,
    ReasonCode,
    Text,
    TopicName,
)


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class _NotificationRef(EventData):
    notification_id: BusinessId = Field(description="Id of the (event, recipient, channel) notification.")
    about_event_id: EventId = Field(description="CloudEvents id of the event notified about.")
    about_event_source: EventSource = Field(description="CloudEvents source of the event notified about.")
    about_event_type: EventTypeName = Field(description="Type of the event notified about (or 'deadletter').")
    recipient: BusinessId = Field(description="Recipient id (an organisation or publishing system).")
    channel: Channel = Field(description="email or webhook.")
    contact_point: BusinessId = Field(description="Id of the contact point used (not the address itself).")
    attempts: Attempts = Field(description="Delivery attempts made.")


class NotificationDelivered(_NotificationRef):
    """The recipient's contact point accepted the message."""

    delivered_at: Moment = Field(description="When it was accepted.")


class NotificationFailed(_NotificationRef):
    """Delivery gave up: a permanent error, or the last retry failed."""

    failed_at: Moment = Field(description="When delivery gave up.")
    permanent: bool = Field(description="True for an error that retrying cannot fix.")
    error: Text = Field(description="The last error, without message content.")


class EventRejected(EventData):
    """An event a service rejected, told to the publishing system registered for its source.

    Sent only as the body of a signed webhook (the e-mail says the same in Norwegian); on Kafka the rejection is the
    dead letter itself, on lhl.deadletter.v1.
    """

    rejected_event_source: EventSource = Field(description="CloudEvents source of the rejected event.")
    rejected_event_id: EventId = Field(description="CloudEvents id of the rejected event.")
    rejected_event_type: EventTypeName | None = Field(description="Its type, when it could be read.")
    reason: ReasonCode = Field(description="The rejection reason code (see the contract's table of reasons).")
    message: Text = Field(description="What was wrong and where, with field paths.")
    original_topic: TopicName = Field(description="Topic the rejected event was published to.")
    original_partition: KafkaPartition | None = Field(description="Its partition, when known.")
    original_offset: KafkaOffset | None = Field(description="Its offset, when known.")
    failed_at: Moment = Field(description="When it was rejected.")


class SubscriptionValidation(EventData):
    """Asks a webhook endpoint whether it wants the events of an HTTP subscription, before the first delivery.

    Sent only as the body of a signed webhook, to the subscription's endpoint: the endpoint must answer 2xx with the
    JSON object `{"challenge": "<challenge>"}`; until it has, nothing is delivered to it.
    """

    subscription_id: BusinessId = Field(
        description="The subscription's id, as the gateway's POST /subscriptions gave it."
    )
    endpoint: Text = Field(description="The endpoint the subscription delivers to: this request's URL.")
    challenge: Text = Field(description="Fresh for each request: echo it to validate the endpoint.")
