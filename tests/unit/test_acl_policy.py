"""The broker's ACL policy: derived from the catalogue and the reference data, committed as the launcher reads it."""

from __future__ import annotations

from contracts import catalog, reference, topics
from deploy import acl
from deploy.acl import Binding
from lhl import access


def _writers(policy: acl.Policy, topic: str) -> set[str]:
    return {b.principal for b in policy.bindings if (b.resource, b.name, b.operation) == ("topic", topic, "write")}


def test_the_committed_policy_is_the_one_derived_from_the_catalogue_and_reference_data() -> None:
    # `make contracts` (lhl acl export) rewrites it; the launcher cannot derive it, having no pydantic.
    assert acl.load_policy() == access.policy()


def test_every_type_published_from_outside_names_who_may_send_it() -> None:
    external = {t.name for t in catalog.EVENT_TYPES if t.producer == catalog.EXTERNAL}
    assert set(access.SENDERS) == external


def test_each_derived_topic_is_written_by_its_service_alone() -> None:
    policy = access.policy()
    assert _writers(policy, topics.MEETINGS_EVENTS) == {"User:svc-meetings"}
    assert _writers(policy, topics.EVALUATIONS_EVENTS) == {"User:svc-evaluations"}
    assert _writers(policy, topics.NOTIFICATIONS_EVENTS) == {"User:svc-notifications"}


def test_reports_come_only_from_county_governor_offices_and_the_agreement_only_from_parties() -> None:
    policy = access.policy()
    offices = {f"User:org-sf-{o.id}" for o in reference.regions().county_governor_offices}
    # The gateway writes every ingress topic for the organisations it authenticated; it checks, per event, the same
    # rule (access.SENDERS) that decides these principals, and the services check the source again behind it.
    gateway = "User:svc-gateway"
    assert _writers(policy, topics.REPORTS_INGRESS) == offices | {"User:lhl-operator", gateway}
    assert _writers(policy, topics.AGREEMENT_INGRESS) == {"User:org-hod", "User:org-ks", "User:lhl-operator", gateway}


def test_the_gateway_writes_the_ingress_topics_and_nothing_else() -> None:
    policy = access.policy()
    gateway = {(b.resource, b.name, b.operation) for b in policy.bindings if b.principal == "User:svc-gateway"}
    ingress = {("topic", t, op) for t in topics.INGRESS_TOPICS for op in ("write", "create")}
    assert gateway == ingress | {("cluster", acl.CLUSTER, "idempotent_write")}


def test_every_organisation_with_a_registered_source_has_a_principal() -> None:
    registered = {o.id for o in reference.organisations().organisations if o.sources}
    assert {f"org-{o}" for o in registered} <= set(access.policy().principals)


def test_only_the_audit_may_read_the_audit_group() -> None:
    policy = access.policy()
    readers = {b.principal for b in policy.bindings if b.resource == "group" and b.operation == "read"}
    assert Binding("User:svc-audit", "group", "lhl-audit", "read") in policy.bindings
    assert "User:lhl-operator" not in readers
    assert not any(b.resource == "group" and b.name == acl.WILDCARD and b.operation == "read" for b in policy.bindings)


def test_a_prefixed_namespace_gets_the_same_rights_on_its_own_names_only() -> None:
    policy = access.policy()
    prefixed = policy.for_namespace("t1.")
    assert Binding("User:svc-meetings", "topic", "t1.lhl.meetings.events.v1", "write") in prefixed
    assert Binding("User:svc-meetings", "group", "t1.lhl-meetings", "read") in prefixed
    # Cluster and wildcard rights are the production namespace's; a prefix neither repeats nor widens them.
    assert all(b.namespaced and b.name.startswith("t1.") for b in prefixed)
    assert len(prefixed) == sum(1 for b in policy.bindings if b.namespaced)
