"""Kafka ACLs from the committed policy (deploy/kafka/acls.json, written by `lhl acl export` from the catalogue and
the reference data), applied idempotently to one topic namespace: the production names, or a test's prefix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy import system
from deploy.kafka_wire import (
    API_CREATE_ACLS,
    API_DELETE_ACLS,
    API_DESCRIBE_ACLS,
    Connection,
    KafkaError,
    Login,
    i8,
    i32,
    string,
)

RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4}
PATTERN_TYPES = {"literal": 3, "prefixed": 4}
OPERATIONS = {
    "all": 2,
    "read": 3,
    "write": 4,
    "create": 5,
    "delete": 6,
    "alter": 7,
    "describe": 8,
    "describe_configs": 10,
    "idempotent_write": 12,
}
PERMISSIONS = {"deny": 2, "allow": 3}
_ANY = 1
CLUSTER = "kafka-cluster"
WILDCARD = "*"


def _name_of(table: dict[str, int], code: int) -> str:
    return next((name for name, value in table.items() if value == code), str(code))


@dataclass(frozen=True, order=True)
class Binding:
    """One ACL: a principal may (or may not) do one operation on one resource, from any host."""

    principal: str
    resource: str
    name: str
    operation: str
    pattern: str = "literal"
    permission: str = "allow"

    @property
    def namespaced(self) -> bool:
        """Topic and group names carry the namespace's prefix; the cluster and the wildcard do not."""
        return self.resource in ("topic", "group") and self.name != WILDCARD

    def in_namespace(self, prefix: str) -> Binding:
        if not self.namespaced:
            return self
        return Binding(self.principal, self.resource, prefix + self.name, self.operation, self.pattern, self.permission)

    def encoded(self) -> bytes:
        return (
            i8(RESOURCE_TYPES[self.resource])
            + string(self.name)
            + i8(PATTERN_TYPES[self.pattern])
            + string(self.principal)
            + string(WILDCARD)
            + i8(OPERATIONS[self.operation])
            + i8(PERMISSIONS[self.permission])
        )

    def as_json(self) -> dict[str, str]:
        return {
            "principal": self.principal,
            "resource": self.resource,
            "name": self.name,
            "pattern": self.pattern,
            "operation": self.operation,
            "permission": self.permission,
        }


@dataclass(frozen=True)
class Policy:
    """Every principal the launcher makes a credential for, and what each may do."""

    principals: dict[str, str]
    """User name (without `User:`) -> what it is, for people reading `lhl acl show`."""
    bindings: tuple[Binding, ...]

    def for_namespace(self, prefix: str) -> set[Binding]:
        """The bindings of one namespace; for a prefix only those naming its topics and groups (the cluster and
        wildcard bindings are the production namespace's and hold for every prefix)."""
        if prefix == "":
            return set(self.bindings)
        return {b.in_namespace(prefix) for b in self.bindings if b.namespaced}

    def as_json(self) -> str:
        body = {"principals": self.principals, "bindings": [b.as_json() for b in sorted(self.bindings)]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def policy_file() -> Path:
    return system.checkout() / "deploy" / "kafka" / "acls.json"


def load_policy(path: Path | None = None) -> Policy:
    raw = json.loads((path or policy_file()).read_text(encoding="utf-8"))
    return Policy(
        principals=dict(raw["principals"]),
        bindings=tuple(Binding(**b) for b in raw["bindings"]),
    )


def describe(conn: Connection) -> set[Binding]:
    """Every ACL the cluster holds (DescribeAcls v1 with a match-anything filter)."""
    body = i8(_ANY) + string(None) + i8(_ANY) + string(None) + string(None) + i8(_ANY) + i8(_ANY)
    reply = conn.request(API_DESCRIBE_ACLS, 1, body)
    reply.i32()
    code, message = reply.i16(), reply.string()
    if code != 0:
        raise KafkaError(f"DescribeAcls refused (error {code}): {message}")
    found = set()
    for _ in reply.array():
        resource, name, pattern = reply.i8(), reply.string() or "", reply.i8()
        for _ in reply.array():
            principal, _host, operation, permission = reply.string() or "", reply.string(), reply.i8(), reply.i8()
            found.add(
                Binding(
                    principal,
                    _name_of(RESOURCE_TYPES, resource),
                    name,
                    _name_of(OPERATIONS, operation),
                    _name_of(PATTERN_TYPES, pattern),
                    _name_of(PERMISSIONS, permission),
                )
            )
    return found


def create(conn: Connection, bindings: Sequence[Binding]) -> None:
    if not bindings:
        return
    body = i32(len(bindings)) + b"".join(b.encoded() for b in bindings)
    reply = conn.request(API_CREATE_ACLS, 1, body)
    reply.i32()
    reply.i32()  # one result per creation, in order
    errors = []
    for binding in bindings:
        code, message = reply.i16(), reply.string()
        if code != 0:
            errors.append(f"{binding}: error {code} {message}")
    if errors:
        raise KafkaError("CreateAcls refused:\n  " + "\n  ".join(errors))


def delete(conn: Connection, bindings: Sequence[Binding]) -> None:
    """Delete exactly these ACLs: each filter names every field, so it matches one binding only."""
    if not bindings:
        return
    body = i32(len(bindings)) + b"".join(b.encoded() for b in bindings)
    reply = conn.request(API_DELETE_ACLS, 1, body)
    reply.i32()
    reply.i32()  # one result per filter, in order
    for binding in bindings:
        code, message = reply.i16(), reply.string()
        if code != 0:
            raise KafkaError(f"DeleteAcls refused for {binding} (error {code}): {message}")
        for _ in reply.array():
            reply.i16(), reply.string(), reply.i8(), reply.string(), reply.i8()
            reply.string(), reply.string(), reply.i8(), reply.i8()


@dataclass(frozen=True)
class Change:
    created: int
    deleted: int
    kept: int


def apply(host: str, port: int, login: Login, policy: Policy, prefix: str = "") -> Change:
    """Make the namespace's ACLs exactly the policy's: create what is missing, delete what a managed principal
    holds on the namespace's resources beyond the policy (a principal's rights shrink when the policy does)."""
    wanted = policy.for_namespace(prefix)
    managed = {f"User:{name}" for name in policy.principals}
    resources = {(b.resource, b.name, b.pattern) for b in wanted}
    with Connection(host, port, login) as conn:
        current = describe(conn)
        stale = [
            b
            for b in current
            if b not in wanted and b.principal in managed and (b.resource, b.name, b.pattern) in resources
        ]
        missing = sorted(wanted - current)
        delete(conn, sorted(stale))
        create(conn, missing)
    return Change(created=len(missing), deleted=len(stale), kept=len(wanted) - len(missing))


def remove(host: str, port: int, login: Login, policy: Policy, prefix: str) -> int:
    """Delete a prefixed namespace's ACLs once its topics are gone (Kafka keeps ACLs of deleted topics)."""
    if prefix == "":
        raise ValueError("the production namespace's ACLs are never removed wholesale")
    with Connection(host, port, login) as conn:
        present = describe(conn) & policy.for_namespace(prefix)
        delete(conn, sorted(present))
    return len(present)


def held(host: str, port: int, login: Login) -> set[Binding]:
    with Connection(host, port, login) as conn:
        return describe(conn)


def principals_of(bindings: Iterable[Binding]) -> set[str]:
    return {b.principal for b in bindings}


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m deploy.acl HOST:PORT`: apply the policy as LHL_ACL_USERNAME (a super user, e.g. the broker's own
    principal in the compose stack, where no ACL exists yet for the operator to act with)."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python3 -m deploy.acl", description=main.__doc__)
    parser.add_argument("bootstrap", help="host:port of a SASL/SCRAM-SHA-512 listener")
    parser.add_argument("--topic-prefix", default="", help="namespace to apply to (default: the production names)")
    args = parser.parse_args(argv)
    host, _, port = args.bootstrap.rpartition(":")
    login = Login(os.environ["LHL_ACL_USERNAME"], os.environ["LHL_ACL_PASSWORD"])
    change = apply(host, int(port), login, load_policy(), args.topic_prefix)
    system.log(f"acl: {change.created} created, {change.deleted} removed, {change.kept} kept")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
