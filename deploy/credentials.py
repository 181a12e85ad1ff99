"""Passwords generated once per installation and kept in the git-ignored state folder, readable by its owner only."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


def folder(state: Path) -> Path:
    return state / "credentials"


def _load(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in loaded.items()}


def _path(state: Path, kind: str) -> Path:
    base = folder(state)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    return base / f"{kind}.json"


def _save(path: Path, known: dict[str, str]) -> None:
    partial = path.with_suffix(".partial")
    partial.touch(mode=0o600)
    os.chmod(partial, 0o600)
    partial.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    partial.replace(path)


def _new_password() -> str:
    # URL-safe, so a password can sit in a DATABASE_URL or a JAAS line without quoting.
    return secrets.token_urlsafe(24)


def ensure(state: Path, kind: str, names: Iterable[str]) -> dict[str, str]:
    """The password of each name in `<state>/credentials/<kind>.json`, generating those still missing."""
    path = _path(state, kind)
    known = _load(path)
    missing = [name for name in names if name not in known]
    if missing:
        known.update({name: _new_password() for name in missing})
        _save(path, known)
    return known


def replace(state: Path, kind: str, name: str) -> str:
    """Give one name a new password and return it (the caller makes the server accept it)."""
    path = _path(state, kind)
    known = _load(path)
    known[name] = _new_password()
    _save(path, known)
    return known[name]


def read(state: Path, kind: str) -> dict[str, str]:
    """The passwords made so far, or none."""
    return _load(folder(state) / f"{kind}.json")


def restore(state: Path, kind: str, name: str, password: str) -> None:
    """Put back a password the server did not take."""
    path = _path(state, kind)
    known = _load(path)
    known[name] = password
    _save(path, known)
