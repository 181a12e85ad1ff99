"""The lock files in requirements/: read them, and check that an environment holds exactly what one pins.

Standard library only: it runs right after `pip install --require-hashes`, before anything else can be trusted.
`python -m deploy.lockfile installer` prints what installs the project itself (pip and pyproject.toml's build
backend), the extra input `make lock` pins beside pyproject's dependencies; `python -m deploy.lockfile verify LOCK`
exits 1, naming each difference, unless the running interpreter has exactly LOCK's packages at LOCK's versions.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
PROJECT = "leve-hele-livet-events"

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")
_HASH = re.compile(r"^--hash=(?P<hash>sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]


def normalise(name: str) -> str:
    """PEP 503: `PyYAML`, `pyyaml` and `py_yaml` name one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read(path: Path) -> dict[str, Pin]:
    """The pins of a `--generate-hashes` lock file; raises ValueError on a line that is not a hashed pin."""
    pins: dict[str, Pin] = {}
    for line in path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        pin, hashes = _PIN.match(words[0]), [_HASH.match(word) for word in words[1:]]
        if pin is None or not hashes or None in hashes:
            raise ValueError(f"{path}: not `name==version --hash=sha256:...`: {' '.join(words)}")
        pins[normalise(pin["name"])] = Pin(pin["version"], tuple(h["hash"] for h in hashes if h is not None))
    return pins


def installer_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """pip and the build backend: locked too, so `pip install --no-build-isolation` builds with the locked one."""
    with pyproject.open("rb") as file:
        build_requires: list[str] = tomllib.load(file)["build-system"]["requires"]
    return ["pip", *build_requires]


def installed() -> dict[str, str]:
    """Every distribution the running interpreter sees, except this project itself."""
    found = {normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    found.pop(PROJECT, None)
    return found


def differences(pins: dict[str, Pin], present: dict[str, str]) -> list[str]:
    missing = [
        f"{name}=={pin.version} is locked but not installed" for name, pin in pins.items() if name not in present
    ]
    other = [
        f"{name} is {present[name]}, the lock says {pin.version}"
        for name, pin in pins.items()
        if name in present and present[name] != pin.version
    ]
    extra = [f"{name}=={version} is installed but not locked" for name, version in present.items() if name not in pins]
    return sorted(missing + other + extra)


def main(argv: list[str]) -> int:
    if argv == ["installer"]:
        print("\n".join(installer_requirements()))
        return 0
    if len(argv) == 2 and argv[0] == "verify":
        problems = differences(read(Path(argv[1])), installed())
        for problem in problems:
            print(f"{argv[1]}: {problem}", file=sys.stderr)
        return 1 if problems else 0
    print("usage: python -m deploy.lockfile installer | verify LOCK_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
