"""`lhl keys`: make, list and retire the Ed25519 keys that publishers and services sign events with."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from contracts import keys
from contracts.envelope import isoformat
from contracts.reference import organisations
from contracts.signing import SERVICE_SOURCE_PREFIX, owner, service_source
from runtime import keystore
from runtime.clock import SystemClock
from runtime.json_output import AsJson, print_json, print_json_lines
from runtime.settings import RuntimeSettings

app = typer.Typer(help="Event signing keys: generate, list, retire.", no_args_is_help=True)

RegistryOption = Annotated[
    Path | None, typer.Option("--registry", help="The installation's key registry (default <KEYS_DIR>/registry.json).")
]


def _key_json(key: keys.RegisteredKey) -> dict[str, object]:
    end = isoformat(key.valid_to) if key.valid_to else None
    validity = {"valid_from": isoformat(key.valid_from), "valid_to": end}
    return {"key_id": key.key_id, "sources": key.sources, "public_key": key.public_key, **validity}


def _fail(message: str) -> NoReturn:
    typer.echo(f"FAILED: {message}", err=True)
    raise typer.Exit(1)


def _moment(option: str, text: str | None) -> datetime:
    if text is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not an ISO 8601 time with offset, e.g. 2027-01-01T00:00:00+00:00")
    if moment.tzinfo is None:
        _fail(f"{option}: {text!r} has no UTC offset")
    return moment


def _check_sources(sources: list[str]) -> None:
    for source in sources:
        if not source.startswith(SERVICE_SOURCE_PREFIX) and organisations().owner_of_source(source) is None:
            _fail(f"--source {source!r} is not registered for any organisation in organisations.json")
    owners = {owner(s) for s in sources}
    if len(owners) > 1:
        _fail(f"one key signs for one owner, but these sources belong to {', '.join(sorted(owners))}")


@app.command()
def generate(
    source: Annotated[list[str] | None, typer.Option("--source", help="A source it signs for (repeatable).")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Or: a service of this system.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the private key (PEM, mode 0600).")] = None,
    valid_from: Annotated[str | None, typer.Option("--valid-from", help="ISO time; default now.")] = None,
    valid_to: Annotated[str | None, typer.Option("--valid-to", help="ISO time; default open.")] = None,
    registry: RegistryOption = None,
    as_json: AsJson = False,
) -> None:
    """Create a private key file and register its public key for the sources (rotation: make the new key, switch the
    publisher to it, then `lhl keys retire` the old one).

    Example: `lhl keys generate --source /statsforvalteren/vestland/moter`
    """
    sources = [service_source(service)] if service else list(source or [])
    if not sources or (service and source):
        _fail("name the key's sources with --source (one or more), or a service with --service")
    _check_sources(sources)
    settings = RuntimeSettings()
    path = out or keystore.key_file(Path(settings.keys_dir), sources[0])
    if path.exists():
        _fail(f"{path} exists already; pass --out to write the new key elsewhere")
    signer = keystore.create_key_file(path)
    start = _moment("--valid-from", valid_from)
    end = _moment("--valid-to", valid_to) if valid_to else None
    try:
        entry = keystore.register(registry or settings.key_registry_path, signer, sources, start, end)
    except ValueError as error:
        path.unlink()
        _fail(str(error))
    if as_json:
        print_json({**_key_json(entry), "private_key_file": path, "registry": registry or settings.key_registry_path})
        return
    typer.echo(f"private key (keep secret): {path}")
    typer.echo(f"key id {entry.key_id} for {', '.join(sources)}, {entry.describe_validity()}")
    typer.echo(f"registered in {registry or settings.key_registry_path}")


@app.command("list")
def list_keys(registry: RegistryOption = None, as_json: AsJson = False) -> None:
    """Every registered key: id, sources and validity, the committed ones and this installation's.

    Example: `lhl keys list` (`--json`: one key per line, with the registry file it is in)
    """
    found = [
        (file, key) for file in [keys.COMMITTED, registry or RuntimeSettings().key_registry_path] for key in _read(file)
    ]
    if as_json:
        print_json_lines({**_key_json(key), "registry": file} for file, key in found)
        return
    for file, key in found:
        typer.echo(f"{key.key_id}  {', '.join(key.sources)}  {key.describe_validity()}  ({file})")


def _read(file: Path) -> list[keys.RegisteredKey]:
    """A registry's keys, or a clear failure: the services keep their last good reading of a registry broken by an
    edit (and log `key_registry_unreadable`), so this is where an operator sees what is wrong with it."""
    try:
        return keys.read(file)
    except (OSError, ValueError) as error:
        _fail(f"{file}: the key registry cannot be read: {error}")


@app.command()
def retire(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `lhl keys list` shows it.")],
    at: Annotated[str | None, typer.Option("--at", help="ISO time it is refused from; default now.")] = None,
    registry: RegistryOption = None,
) -> None:
    """End a key's validity: events it signed are refused from then on, and `audit verify` flags any the audit
    accepted later (use a past time to revoke a stolen key from the moment it was stolen).

    Example: `lhl keys retire 8e529e1fe56e41b9 --at 2027-01-01T00:00:00+00:00`
    """
    path = registry or RuntimeSettings().key_registry_path
    try:
        ended = keystore.retire(path, key_id, _moment("--at", at))
    except (KeyError, ValueError) as error:
        _fail(str(error))
    assert ended.valid_to is not None
    typer.echo(f"key {key_id} is refused from {isoformat(ended.valid_to)}")
