"""`lhl acl`: the broker's ACLs, derived from the catalogue and the reference data, shown and applied idempotently."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from deploy import acl
from deploy.kafka_wire import Login
from lhl import access
from runtime.json_output import AsJson, print_json_lines
from runtime.kafka_access import KafkaAccess
from runtime.settings import RuntimeSettings

app = typer.Typer(help="Who may do what on the broker: show the policy, apply it.", no_args_is_help=True)

PrefixOption = Annotated[
    str,
    typer.Option(
        "--topic-prefix",
        envvar="TOPIC_PREFIX",
        help="Namespace to apply to: its topics and groups carry this prefix (tests and the demo use one).",
    ),
]


def _endpoint(kafka: KafkaAccess) -> tuple[str, int, Login]:
    first = kafka.bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if kafka.username is None:
        raise typer.BadParameter("KAFKA_USERNAME is not set: ACLs are applied as the operator")
    return host, int(port), Login(kafka.username, kafka.password or "", kafka.cafile)


async def apply_namespace(kafka: KafkaAccess, prefix: str) -> acl.Change:
    """Give a namespace (a test's or the demo's prefix) the policy's ACLs, as the operator."""
    host, port, login = _endpoint(kafka)
    return await asyncio.to_thread(acl.apply, host, port, login, acl.load_policy(), prefix)


async def remove_namespace(kafka: KafkaAccess, prefix: str) -> int:
    """Delete a finished namespace's ACLs (Kafka keeps them after its topics are deleted)."""
    host, port, login = _endpoint(kafka)
    return await asyncio.to_thread(acl.remove, host, port, login, acl.load_policy(), prefix)


@app.command("show")
def show(
    held: Annotated[bool, typer.Option("--held", help="Show what the broker holds instead of the policy.")] = False,
    as_json: AsJson = False,
) -> None:
    """Print the policy (or the broker's ACLs): principal, operation, resource.

    Example: `lhl acl show` (`--json`: one binding per line)
    """
    if held:
        host, port, login = _endpoint(RuntimeSettings().kafka)
        bindings = sorted(acl.held(host, port, login))
    else:
        bindings = sorted(access.policy().bindings)
    columns = ("principal", "permission", "operation", "resource", "name", "pattern")
    if as_json:
        print_json_lines({column: getattr(b, column) for column in columns} for b in bindings)
        return
    table = Table(*columns)
    for b in bindings:
        table.add_row(b.principal, b.permission, b.operation, b.resource, b.name, b.pattern)
    Console(width=200).print(table)


@app.command("apply")
def apply(prefix: PrefixOption = "") -> None:
    """Create the policy's ACLs that are missing and delete those a principal holds beyond it; idempotent.

    Example: `lhl acl apply --topic-prefix demo1.`
    """
    change = asyncio.run(apply_namespace(RuntimeSettings().kafka, prefix))
    typer.echo(f"ACLs of namespace '{prefix}': {change.created} created, {change.deleted} removed, {change.kept} kept")


@app.command("export")
def export() -> None:
    """Rewrite deploy/kafka/acls.json, which the launcher applies, from the catalogue and the reference data.

    Example: `lhl acl export`
    """
    path = acl.policy_file()
    path.write_text(access.policy().as_json(), encoding="utf-8")
    typer.echo(f"wrote {path}")
