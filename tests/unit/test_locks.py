"""The lock files agree with pyproject.toml: a dependency changed without `make lock` fails here, in CI."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from deploy import lockfile

PYPROJECT = tomllib.loads((lockfile.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = lockfile.read(lockfile.RUNTIME_LOCK)
DEV = lockfile.read(lockfile.DEV_LOCK)
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
LINTERS = {"ruff", "mypy", "asyncpg-stubs", "types-pyyaml", "types-jsonschema"}
# What the image holds: these packages, installed with the runtime lock only.
IMAGE_PACKAGES = ["contracts", "runtime", "services", "lhl", "deploy"]
# Imported only inside the function that needs it, which says which extra to install when it is missing.
OPTIONAL_IMPORTS = {"aiosmtpd"}


def requirements(*groups: list[str]) -> list[Requirement]:
    return [Requirement(line) for group in groups for line in group]


def unmet(wanted: list[Requirement], pins: dict[str, lockfile.Pin]) -> list[str]:
    missing = [f"{r} is not in the lock" for r in wanted if lockfile.normalise(r.name) not in pins]
    outside = [
        f"{r} but the lock has {pins[lockfile.normalise(r.name)].version}"
        for r in wanted
        if lockfile.normalise(r.name) in pins
        and not r.specifier.contains(pins[lockfile.normalise(r.name)].version, prereleases=True)
    ]
    return missing + outside


def test_every_runtime_dependency_and_the_installer_are_locked_for_the_image() -> None:
    wanted = requirements(PYPROJECT["project"]["dependencies"], lockfile.installer_requirements())
    assert unmet(wanted, RUNTIME) == [], "run `make lock`"


def test_every_dependency_of_the_venv_is_locked_for_it() -> None:
    wanted = requirements(
        PYPROJECT["project"]["dependencies"],
        EXTRAS["dev"],
        EXTRAS["local"],
        lockfile.installer_requirements(),
    )
    assert unmet(wanted, DEV) == [], "run `make lock`"


def generated_for(lock: Path) -> set[str]:
    """The pins that the lock's `# via` comments attribute to pyproject.toml: its direct dependencies then."""
    direct: set[str] = set()
    current = ""
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum():
            current = lockfile.normalise(line.split("==")[0])
        elif "(pyproject.toml)" in line:
            direct.add(current)
    return direct


@pytest.mark.parametrize(
    ("lock", "extras"),
    [(lockfile.RUNTIME_LOCK, []), (lockfile.DEV_LOCK, ["dev", "local"])],
    ids=["runtime", "dev"],
)
def test_a_dependency_removed_from_pyproject_is_gone_from_the_lock(lock: Path, extras: list[str]) -> None:
    declared = requirements(PYPROJECT["project"]["dependencies"], *(EXTRAS[extra] for extra in extras))
    assert generated_for(lock) == {lockfile.normalise(r.name) for r in declared}, "run `make lock`"


def test_the_venv_runs_the_image_versions() -> None:
    differ = {name: (pin.version, DEV[name].version) for name, pin in RUNTIME.items() if DEV.get(name) != pin}
    assert differ == {}, "run `make lock`"


def imported_modules(package: str) -> set[str]:
    found: set[str] = set()
    for path in (lockfile.ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_the_code_in_the_image_imports_only_what_the_runtime_lock_installs() -> None:
    modules = {m for package in IMAGE_PACKAGES for m in imported_modules(package)}
    third_party = modules - set(sys.stdlib_module_names) - set(IMAGE_PACKAGES) - OPTIONAL_IMPORTS
    providers = importlib.metadata.packages_distributions()
    unlocked = sorted(
        module
        for module in third_party
        if not any(lockfile.normalise(dist) in RUNTIME for dist in providers.get(module, []))
    )
    assert unlocked == [], "add them to pyproject's dependencies and run `make lock`"


def test_the_local_smtp_sink_stays_out_of_the_image() -> None:
    assert "aiosmtpd" in DEV
    assert "aiosmtpd" not in RUNTIME


@pytest.mark.parametrize("lock", [lockfile.RUNTIME_LOCK, lockfile.DEV_LOCK], ids=lambda path: path.name)
def test_every_pin_carries_a_sha256_hash(lock: Path) -> None:
    # read() refuses an entry without one, so reading is the check; a lock of no pins would pass it vacuously.
    assert len(lockfile.read(lock)) > 20


def test_the_linters_are_pinned_exactly_in_pyproject_so_a_new_release_cannot_change_lint() -> None:
    linters = [r for r in requirements(EXTRAS["dev"]) if lockfile.normalise(r.name) in LINTERS]
    assert {lockfile.normalise(r.name) for r in linters} == LINTERS
    loose = [str(r) for r in linters if len(r.specifier) != 1 or next(iter(r.specifier)).operator != "=="]
    assert loose == []


def test_a_pin_without_a_hash_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("ruff==0.17.6 \\\n    # via leve-hele-livet-events (pyproject.toml)\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"ruff==0\.17\.6"):
        lockfile.read(lock)


def test_an_environment_that_differs_from_the_lock_is_reported() -> None:
    pins = {"ruff": lockfile.Pin("0.17.6", ("sha256:" + "0" * 64,)), "mypy": lockfile.Pin("2.4.1", ())}
    found = lockfile.differences(pins, {"ruff": "0.18.0", "rich": "15.0.0"})
    assert found == [
        "mypy==2.4.1 is locked but not installed",
        "rich==15.0.0 is installed but not locked",
        "ruff is 0.18.0, the lock says 0.17.6",
    ]
