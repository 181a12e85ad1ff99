"""Debian packages a test needs (chromium, promtool), installed with apt-get on first use when missing and root."""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

# Another process (another engineer's session, unattended-upgrades) may hold the dpkg lock for a while.
_APT_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")
_INSTALL_TIMEOUT_SECONDS = 1200.0


class PackageUnavailable(RuntimeError):
    """A program is missing and cannot be installed from here; the message says what to run."""


def program(binary: Path, package: str, *, recommends: bool = True) -> Path:
    """The binary, installed with apt-get first when it is missing and we are root."""
    if binary.exists():
        return binary
    options = ("-y",) if recommends else ("-y", "--no-install-recommends")
    command = f"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install {' '.join(options)} {package}"
    if os.geteuid() != 0:
        raise PackageUnavailable(f"{binary} is missing and installing it needs root; run: sudo sh -c '{command}'")
    _apt_lists_updated(command)
    _apt_get(command, "install", *options, package)
    if not binary.exists():
        raise PackageUnavailable(f"apt-get installed {package} but {binary} is still missing; run: {command}")
    return binary


@cache
def _apt_lists_updated(command: str) -> None:
    """`apt-get update` once per test session: it is slow and its result does not change within a run."""
    _apt_get(command, "update")


def _apt_get(advice: str, *args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", *_APT_LOCK_WAIT, *args]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PackageUnavailable(f"{' '.join(command)} failed ({error}); run: {advice}") from error
    if done.returncode != 0:
        raise PackageUnavailable(
            f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-1500:]}; run: {advice}"
        )
