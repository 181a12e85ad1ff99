"""Pure rules of the endpoint validation handshake: the request that proves an endpoint wants the deliveries, the
answer that counts as yes, what an active subscription becomes, and when to ask again.

Like Altinn Events, nothing is delivered to an endpoint before it answered; unlike a bare 200, the endpoint must echo
a challenge it could only know from this request, so a server that answers 200 to anything (a catch-all, a login
page) does not pass for one that understood it is being subscribed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Final

from contracts import catalog, topics
from contracts.envelope import CloudEvent
from contracts.events.notifications import SubscriptionValidation
from services.notifications import domain

NO_AGREEMENT: Final = "none"
"""A subscription's validation is about no agreement; the partition key is the contract's all the same."""
SUBSCRIPTION_HEADER: Final = "X-LHL-Subscription-Id"
SECRET_ENV_PREFIX: Final = "LHL_WEBHOOK_SECRET_ORG_"
NAME_PREFIX: Final = "http-"


def name_of(subscription_id: str) -> str:
    """The id of the recipient, contact point and filter an active subscription becomes."""
    return f"{NAME_PREFIX}{subscription_id}"


def secret_env_of(organisation: str) -> str:
    """The organisation's webhook secret, agreed at onboarding and set in this service's environment: a secret sent
    over HTTP would end up in this database, and the house keeps webhook secrets out of it."""
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", organisation.upper())


def request(subscription_id: str, challenge: str, *, event_id: str, source: str, endpoint: str, now: datetime) -> bytes:
    """A structured-mode CloudEvent of the contract's type, so an endpoint that parses deliveries parses this too."""
    kind = catalog.VALIDATION_REQUEST
    data = SubscriptionValidation(subscription_id=subscription_id, endpoint=endpoint, challenge=challenge)
    return CloudEvent(
        specversion="1.0",
        id=event_id,
        source=source,
        type=kind.name,
        time=now,
        subject=f"subscription/{subscription_id}",
        dataschema=kind.dataschema,
        correlationid=f"subscription-{subscription_id}",
        partitionkey=topics.partition_key(NO_AGREEMENT, None),
        data=data.model_dump(mode="json"),
    ).to_bytes()


def refusal(status: int, body: bytes, challenge: str) -> str | None:
    """Why the endpoint's answer is not a yes, or None when it is."""
    expected = 'answer 200 with {"challenge": "<the challenge>"}'
    if not 200 <= status < 300:
        return f"the endpoint answered HTTP {status} to the validation request; {expected}"
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"the endpoint's answer to the validation request is not JSON; {expected}"
    if not isinstance(answer, dict) or answer.get("challenge") != challenge:
        return f"the endpoint's answer does not echo the validation request's challenge; {expected}"
    return None


def next_check_at(attempts: int, now: datetime, *, max_attempts: int, retry_seconds: float) -> datetime | None:
    """When to ask again after `attempts` unanswered requests, or None: the subscription has failed."""
    if attempts >= max_attempts:
        return None
    return now + timedelta(seconds=retry_seconds)


def as_recipient(
    subscription_id: str,
    organisation: str,
    endpoint: str,
    agreements: tuple[str, ...],
    known_agreements: Collection[str],
) -> tuple[domain.Recipient, domain.ContactPoint]:
    """A system recipient, so the organisation defaults do not tell it too; no agreement listed means every one."""
    name = name_of(subscription_id)
    recipient = domain.Recipient(
        name, f"HTTP-abonnement for {organisation}", "system", organisation, (), agreements or tuple(known_agreements)
    )
    return recipient, domain.ContactPoint(name, name, "webhook", endpoint, secret_env_of(organisation))
