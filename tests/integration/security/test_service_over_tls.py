"""A service can work entirely over the TLS listener: FastStream's SASLScram512 with an SSL context, and the raw
aiokafka clients of the runtime, all trusting the launcher's local CA."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from contracts import topics
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for


async def test_the_meetings_service_consumes_and_publishes_over_tls(infra: Infra, run_id: str, bus: Bus) -> None:
    settings = settings_for(
        MeetingsSettings,
        infra,
        run_id,
        kafka_bootstrap_servers=os.environ["LHL_KAFKA_TLS_BOOTSTRAP_SERVERS"],
        kafka_ssl_cafile=os.environ["LHL_KAFKA_SSL_CAFILE"],
    )
    assert settings.kafka.options()["security_protocol"] == "SASL_SSL"
    event = cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT)
    async with running(create_app(settings, ManualClock(datetime(2021, 9, 2, tzinfo=UTC)))) as runtime:
        assert (await runtime.readiness())["broker"]
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == event.id for e in es))
    assert any(e["type"] == "no.levehelelivet.meeting.recorded.v1" for e in derived)
