"""`lhl`: the one command-line tool for operators and integrators."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import time
from importlib import metadata
from typing import Annotated

import typer

from lhl import services
from lhl.demo.mailbox import Mailbox, SinkUnavailableError
from runtime.json_output import AsJson, print_json

app = typer.Typer(
    help="Leve hele livet event backend: run the stack and services, publish events, inspect the audit trail.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"lhl {metadata.version('leve-hele-livet-events')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


stack_app = typer.Typer(help="The local Kafka broker and PostgreSQL.\n\nExample: `lhl stack up`", no_args_is_help=True)
app.add_typer(stack_app, name="stack")


@stack_app.command("up")
def stack_up(as_json: AsJson = False) -> None:
    """Start the local broker and database (installs what is missing); idempotent.

    Example: `lhl stack up` (`--json`: `{"kafka_bootstrap_servers": ..., "database_url": ...}`)
    """
    from deploy import stack

    info = stack.up()
    if as_json:
        print_json({"kafka_bootstrap_servers": info.kafka_bootstrap_servers, "database_url": info.database_url})
        return
    typer.echo(f"KAFKA_BOOTSTRAP_SERVERS={info.kafka_bootstrap_servers}")
    typer.echo(f"DATABASE_URL={info.database_url}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the local broker and database, leaving no process behind.

    Example: `lhl stack down`
    """
    from deploy import stack

    stack.down()


@stack_app.command("status")
def stack_status(as_json: AsJson = False) -> None:
    """Show whether the broker and the database are up; exits 1 if either is down.

    Example: `lhl stack status` (`--json`: `{"kafka": {"up": true}, "postgres": {"up": false}}`)
    """
    from deploy import stack

    state = stack.status()
    if as_json:
        print_json({part: {"up": up} for part, up in state.items()})
    else:
        for part, up in state.items():
            typer.echo(f"{part}: {'up' if up else 'down'}")
    raise typer.Exit(0 if all(state.values()) else 1)


@app.command("run")
def run(
    names: Annotated[list[str] | None, typer.Argument(help="Services to run; all when omitted.")] = None,
) -> None:
    """Run services in the foreground, one process each; Ctrl-C or SIGTERM stops them cleanly.

    Example: `lhl run meetings evaluations`
    """
    chosen = names or services.runnable()
    unknown = sorted(set(chosen) - set(services.RUNNABLE))
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {unknown}; choose from {list(services.RUNNABLE)}")
    services.local_service_keys(chosen)
    sink, mail = _local_smtp_sink() if "notifications" in chosen and "SMTP_HOST" not in os.environ else (None, {})
    children = [
        subprocess.Popen(
            services.command(name, int(os.environ.get("HTTP_PORT", str(services.HTTP_PORTS[name])))),
            env={
                **os.environ,
                **services.local_audit_keys(),
                **mail,
                "HTTP_PORT": os.environ.get("HTTP_PORT", str(services.HTTP_PORTS[name])),
            },
        )
        for name in chosen
    ]
    typer.echo(f"running {', '.join(chosen)} (pids {', '.join(str(c.pid) for c in children)}); Ctrl-C stops")

    def forward(signum: int, _: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while any(c.poll() is None for c in children):
        time.sleep(0.2)
    if sink is not None:
        sink.stop()
        told = ", ".join(f"{address} {count}" for address, count in sink.counts()) or "none"
        typer.echo(f"e-mails received by the local SMTP sink: {told}")
    failed = [name for name, c in zip(chosen, children, strict=True) if c.returncode not in (0, -signal.SIGTERM)]
    if failed:
        typer.echo(f"stopped with errors: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


def _local_smtp_sink() -> tuple[Mailbox, dict[str, str]]:
    """Without SMTP_HOST, e-mails go to a sink in this process, so a local run never retries against nothing."""
    sink = Mailbox()
    try:
        sink.start()
    except SinkUnavailableError as error:
        typer.echo(f"{error}; or set SMTP_HOST to use a real server", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"e-mails go to a local SMTP sink on 127.0.0.1:{sink.port}; set SMTP_HOST to use a real server")
    return sink, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)}


def _mount_operator_clis() -> None:
    from lhl import acls, dlq, keys, publish, token

    app.add_typer(dlq.app, name="dlq")
    app.add_typer(acls.app, name="acl")
    app.add_typer(keys.app, name="keys")
    app.command("publish")(publish.publish_command)
    app.command("token")(token.token_command)
    try:
        from lhl.status import status_command
    except ModuleNotFoundError:  # the evaluations or meetings service is not in this checkout
        return
    app.command("status")(status_command)
    try:
        from lhl.demo.command import demo_command
    except ModuleNotFoundError:  # a service the demo needs is not in this checkout
        return
    app.command("demo")(demo_command)


def _mount_service_clis() -> None:
    """Each service owns its CLI module; `lhl` mounts the ones present in this checkout."""
    mounts = {
        "meetings": ("services.meetings.cli", "Meetings and action items (read model)."),
        "evaluations": ("services.evaluations.cli", "Regional reports, evaluations and the agreement's term."),
        "subscriptions": ("services.notifications.cli", "Notification recipients, contact points and failures."),
        "audit": ("services.audit.cli", "The tamper-evident audit trail: verify, trail, checkpoint."),
    }
    for name, (module_name, help_text) in mounts.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        app.add_typer(module.app, name=name, help=help_text)


_mount_operator_clis()
_mount_service_clis()


def main() -> None:
    app()
