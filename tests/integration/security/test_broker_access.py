"""The real broker lets each principal do what the ACL policy grants it and refuses everything else, with the
error each client then sees. Every test works in its own prefixed namespace, which has the production ACLs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError

from contracts import topics
from deploy import stack
from runtime.kafka_access import KafkaAccess
from runtime.kafka_admin import ensure_topics
from tests.integration.security.access import (
    anonymous,
    commit_offset,
    create_topic,
    delete_topic,
    produce,
    publisher,
    read_values,
)
from tests.support.infra import Infra

Attempt = Callable[[KafkaAccess, str], Awaitable[None]]


@pytest.fixture
async def namespace(infra: Infra, run_id: str) -> str:
    """The test's prefix, with every topic created by the operator (publishers may not create topics)."""
    prefix = f"t{run_id}."
    await ensure_topics(infra.kafka, [prefix + t for t in topics.ALL_TOPICS], 1)
    return prefix


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda kafka, prefix: produce(kafka, prefix + topics.MEETINGS_INGRESS), id="produce"),
        pytest.param(lambda kafka, prefix: read_values(kafka, prefix + topics.DEAD_LETTER), id="consume"),
        pytest.param(lambda kafka, prefix: create_topic(kafka, prefix + "lhl.new.v1"), id="create-topic"),
        pytest.param(lambda kafka, prefix: delete_topic(kafka, prefix + topics.MEETINGS_INGRESS), id="delete-topic"),
        pytest.param(
            lambda kafka, prefix: commit_offset(kafka, prefix + "lhl-audit", prefix + topics.MEETINGS_INGRESS),
            id="commit-offsets",
        ),
    ],
)
async def test_an_anonymous_client_cannot_even_connect(infra: Infra, namespace: str, attempt: Attempt) -> None:
    # The listener wants a SASL handshake first and closes the connection on any other request.
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await attempt(anonymous(infra), namespace)


async def test_a_wrong_password_is_refused_like_no_password(infra: Infra, namespace: str) -> None:
    impostor = infra.kafka.as_user("org-hod", "not-the-password")
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await produce(impostor, namespace + topics.AGREEMENT_INGRESS)


async def test_a_county_governor_office_writes_the_ingress_topics_it_may_and_nothing_else(
    infra: Infra, namespace: str
) -> None:
    office = publisher(infra, "sf-agder")
    await produce(office, namespace + topics.REPORTS_INGRESS, b"report")
    await produce(office, namespace + topics.MEETINGS_INGRESS, b"minutes")
    assert await read_values(infra.kafka, namespace + topics.REPORTS_INGRESS) == [b"report"]
    assert await read_values(infra.kafka, namespace + topics.MEETINGS_INGRESS) == [b"minutes"]
    for refused in (
        topics.AGREEMENT_INGRESS,
        topics.MEETINGS_EVENTS,
        topics.EVALUATIONS_EVENTS,
        topics.NOTIFICATIONS_EVENTS,
        topics.DEAD_LETTER,
    ):
        with pytest.raises(TopicAuthorizationFailedError, match=refused):
            await produce(office, namespace + refused)


async def test_a_development_centre_may_write_meetings_but_not_reports(infra: Infra, namespace: str) -> None:
    centre = publisher(infra, "usht-agder")
    await produce(centre, namespace + topics.MEETINGS_INGRESS, b"minutes")
    assert await read_values(infra.kafka, namespace + topics.MEETINGS_INGRESS) == [b"minutes"]
    with pytest.raises(TopicAuthorizationFailedError, match=topics.REPORTS_INGRESS):
        await produce(centre, namespace + topics.REPORTS_INGRESS)


async def test_a_party_writes_the_agreement_ingress_and_a_non_party_may_not(infra: Infra, namespace: str) -> None:
    await produce(publisher(infra, "hod"), namespace + topics.AGREEMENT_INGRESS, b"evaluation")
    assert await read_values(infra.kafka, namespace + topics.AGREEMENT_INGRESS) == [b"evaluation"]
    with pytest.raises(TopicAuthorizationFailedError, match=topics.AGREEMENT_INGRESS):
        await produce(publisher(infra, "hdir"), namespace + topics.AGREEMENT_INGRESS)


async def test_a_publisher_may_not_read_create_or_delete_topics(infra: Infra, namespace: str) -> None:
    office = publisher(infra, "sf-agder")
    with pytest.raises(TopicAuthorizationFailedError, match=topics.REPORTS_INGRESS):
        await read_values(office, namespace + topics.REPORTS_INGRESS)
    with pytest.raises(TopicAuthorizationFailedError):
        await create_topic(office, namespace + "lhl.new.v1")
    with pytest.raises(TopicAuthorizationFailedError):
        await delete_topic(office, namespace + topics.REPORTS_INGRESS)


@pytest.mark.parametrize(
    ("topic", "owner"),
    [
        (topics.MEETINGS_EVENTS, "meetings"),
        (topics.EVALUATIONS_EVENTS, "evaluations"),
        (topics.NOTIFICATIONS_EVENTS, "notifications"),
    ],
)
async def test_a_derived_event_is_accepted_only_from_the_service_that_derives_it(
    infra: Infra, namespace: str, topic: str, owner: str
) -> None:
    await produce(infra.service_kafka(owner), namespace + topic, b"derived")
    assert await read_values(infra.kafka, namespace + topic) == [b"derived"]
    others = [infra.service_kafka(s) for s in ("meetings", "evaluations", "notifications", "audit") if s != owner]
    for principal in (infra.kafka, publisher(infra, "hod"), *others):
        with pytest.raises(TopicAuthorizationFailedError, match=topic):
            await produce(principal, namespace + topic)


async def test_only_the_audit_may_commit_the_audit_groups_offsets(infra: Infra, namespace: str) -> None:
    group, topic = namespace + "lhl-audit", namespace + topics.MEETINGS_INGRESS
    await commit_offset(infra.service_kafka("audit"), group, topic)
    for principal in (infra.kafka, *(infra.service_kafka(s) for s in ("meetings", "evaluations", "notifications"))):
        with pytest.raises(GroupAuthorizationFailedError, match=group):
            await commit_offset(principal, group, topic)


async def test_a_service_may_not_use_another_services_group(infra: Infra, namespace: str) -> None:
    evaluations = infra.service_kafka("evaluations")
    with pytest.raises(GroupAuthorizationFailedError, match="lhl-meetings"):
        await commit_offset(evaluations, namespace + "lhl-meetings", namespace + topics.DEAD_LETTER)


async def test_the_operator_reads_and_writes_over_tls_with_scram(infra: Infra, namespace: str) -> None:
    over_tls = infra.tls_kafka()
    assert over_tls.options()["security_protocol"] == "SASL_SSL"
    await produce(over_tls, namespace + topics.MEETINGS_INGRESS, b'{"over": "tls"}')
    assert await read_values(over_tls, namespace + topics.MEETINGS_INGRESS) == [b'{"over": "tls"}']


async def test_a_rotated_password_works_at_once_and_the_old_one_no_longer(infra: Infra, namespace: str) -> None:
    before = publisher(infra, "ks-agder")
    await produce(before, namespace + topics.MEETINGS_INGRESS, b"before")
    await asyncio.to_thread(stack.rotate, "org-ks-agder")
    after = publisher(infra, "ks-agder")
    assert after.password != before.password
    await produce(after, namespace + topics.MEETINGS_INGRESS, b"after")
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await produce(before, namespace + topics.MEETINGS_INGRESS, b"stale")
    assert await read_values(infra.kafka, namespace + topics.MEETINGS_INGRESS) == [b"before", b"after"]
