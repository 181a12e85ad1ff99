"""Who may do what on the broker, derived from the catalogue, the reference data and the services' definitions.

The result is committed as deploy/kafka/acls.json (`lhl acl export`, run by `make contracts`), because the launcher
that applies it runs before the virtual environment exists; a unit test fails when the file is out of date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from contracts import catalog, reference, topics
from contracts.reference import Organisation
from contracts.signing import GATEWAY
from deploy import acl
from deploy.acl import CLUSTER, WILDCARD, Binding
from deploy.broker import OPERATOR_USER
from lhl import services
from runtime.wiring import runtime_of
from services.evaluations.domain import office_organisation


def service_user(service: str) -> str:
    return f"svc-{service}"


def publisher_user(organisation_id: str) -> str:
    return f"org-{organisation_id}"


def _any_registered(org: Organisation) -> bool:
    return bool(org.sources)


def _county_governor(org: Organisation) -> bool:
    offices = reference.regions().county_governor_offices
    return any(org.id == office_organisation(office.id) for office in offices)


def _party(org: Organisation) -> bool:
    return any(org.id in agreement.parties for agreement in reference.agreements().values())


SENDERS: Final[dict[str, Callable[[Organisation], bool]]] = {
    # The organiser's own system plans and minutes a meeting; any organisation may organise one (the meetings
    # service checks the source against data.organiser).
    "no.levehelelivet.meeting.scheduled.v1": _any_registered,
    "no.levehelelivet.meeting.held.v1": _any_registered,
    # An organisation of the meeting's region, or a national one for a national meeting: all of them, by level.
    "no.levehelelivet.meeting.rescheduled.v1": _any_registered,
    "no.levehelelivet.meeting.cancelled.v1": _any_registered,
    # Any organisation at the level of the one that completed the item.
    "no.levehelelivet.action-item.completed.v1": _any_registered,
    # Only a county governor office, for its own region (the evaluations service checks which region).
    "no.levehelelivet.report.submitted.v1": _county_governor,
    # Only a party to an agreement.
    "no.levehelelivet.evaluation.completed.v1": _party,
    "no.levehelelivet.agreement.termination-notice-given.v1": _party,
}
"""For each type published from outside: which organisations the receiving service would ever accept it from."""


def ingress_of(org: Organisation) -> list[str]:
    """The ingress topics an organisation's systems may write: those carrying a type it may send."""
    external = [t for t in catalog.EVENT_TYPES if t.producer == catalog.EXTERNAL]
    return sorted({t.topic for t in external if SENDERS[t.name](org)})


def _consumed(service: str) -> list[str]:
    """What the service's definition says it reads (the audit: every topic)."""
    return sorted(set(runtime_of(services.create_app(service)).definition.consumed_topics()))


def _produced(service: str) -> list[str]:
    """The topics whose types the catalogue says the service produces, and the dead-letter topic if it rejects."""
    derived = {t.topic for t in catalog.EVENT_TYPES if t.producer == service}
    if service == "audit":
        return []
    return sorted({*derived, topics.DEAD_LETTER})


def _service_bindings(service: str) -> list[Binding]:
    user = f"User:{service_user(service)}"
    consumed, produced = _consumed(service), _produced(service)
    bindings = [Binding(user, "topic", t, "read") for t in consumed]
    bindings += [Binding(user, "topic", t, "write") for t in produced]
    # A service creates its own topics when they are missing (runtime.kafka_admin.ensure_topics), and no others.
    bindings += [Binding(user, "topic", t, "create") for t in sorted({*consumed, *produced})]
    bindings.append(Binding(user, "group", f"lhl-{service}", "read"))
    if produced:
        bindings.append(Binding(user, "cluster", CLUSTER, "idempotent_write"))
    return bindings


def _gateway_bindings() -> list[Binding]:
    """The HTTP gateway writes what it accepted to the ingress topics (and creates them when missing), nothing else:
    which organisation may send what it checks itself, as the services check it again behind it."""
    user = f"User:{service_user(GATEWAY)}"
    bindings = [Binding(user, "topic", t, op) for t in topics.INGRESS_TOPICS for op in ("write", "create")]
    bindings.append(Binding(user, "cluster", CLUSTER, "idempotent_write"))
    return bindings


def _operator_bindings() -> list[Binding]:
    user = f"User:{OPERATOR_USER}"
    bindings = [Binding(user, "cluster", CLUSTER, op) for op in ("alter", "describe", "create", "idempotent_write")]
    bindings += [
        Binding(user, "topic", WILDCARD, op) for op in ("read", "describe", "describe_configs", "create", "delete")
    ]
    # Committed offsets of every group may be read (the demo's progress, lag), never committed.
    bindings.append(Binding(user, "group", WILDCARD, "describe"))
    # `lhl dlq replay` and `lhl publish` write ingress topics only: derived facts are their services' alone.
    bindings += [Binding(user, "topic", t, "write") for t in topics.INGRESS_TOPICS]
    return bindings


def policy() -> acl.Policy:
    principals = {OPERATOR_USER: "operator: topic and ACL administration, reads every topic, writes ingress"}
    bindings = _operator_bindings()
    for service in services.SERVICES:
        principals[service_user(service)] = f"the {service} service"
        bindings += _service_bindings(service)
    principals[service_user(GATEWAY)] = "the HTTP gateway: publishes what authenticated organisations send"
    bindings += _gateway_bindings()
    for org in reference.organisations().organisations:
        allowed = ingress_of(org)
        if not allowed:
            continue
        user = publisher_user(org.id)
        principals[user] = f"publishing system of {org.name}"
        bindings += [Binding(f"User:{user}", "topic", t, "write") for t in allowed]
        bindings.append(Binding(f"User:{user}", "cluster", CLUSTER, "idempotent_write"))
    return acl.Policy(principals=principals, bindings=tuple(sorted(set(bindings))))
