"""The outcome of telling a recipient about an event."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, PositiveInt

from contracts.events.base import BusinessId, EventData, Text


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class _NotificationRef(EventData):
    notification_id: BusinessId = Field(description="Id of the (event, recipient, channel) notification.")
    about_event_id: str = Field(description="CloudEvents id of the event notified about.")
    about_event_source: str = Field(description="CloudEvents source of the event notified about.")
    about_event_type: str = Field(description="Type of the event notified about (or 'deadletter').")
    recipient: BusinessId = Field(description="Recipient id (an organisation or publishing system).")
    channel: Channel = Field(description="email or webhook.")
    contact_point: BusinessId = Field(description="Id of the contact point used (not the address itself).")
    attempts: PositiveInt = Field(description="Delivery attempts made.")


class NotificationDelivered(_NotificationRef):
    """The recipient's contact point accepted the message."""

    delivered_at: AwareDatetime = Field(description="When it was accepted.")


class NotificationFailed(_NotificationRef):
    """Delivery gave up: a permanent error, or the last retry failed."""

    failed_at: AwareDatetime = Field(description="When delivery gave up.")
    permanent: bool = Field(description="True for an error that retrying cannot fix.")
    error: Text = Field(description="The last error, without message content.")
