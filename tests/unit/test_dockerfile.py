"""The image installs the locked dependencies, checked by hash, in a layer that a change to the source reuses."""

from __future__ import annotations

from deploy import lockfile

DOCKERFILE = (lockfile.ROOT / "Dockerfile").read_text(encoding="utf-8")
LOCK = lockfile.RUNTIME_LOCK.relative_to(lockfile.ROOT).as_posix()


def instructions() -> list[str]:
    """Each instruction on one line, without comments and line continuations."""
    lines = [line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#")]
    return [" ".join(step.split()) for step in "\n".join(lines).replace("\\\n", " ").splitlines() if step.strip()]


def position(predicate: str) -> int:
    matches = [index for index, step in enumerate(instructions()) if step.startswith(predicate)]
    assert len(matches) == 1, f"expected one instruction starting {predicate!r}, found {len(matches)}"
    return matches[0]


def test_the_runtime_lock_is_copied_and_installed_with_hashes_before_the_source() -> None:
    copy_lock = position(f"COPY {LOCK} ")
    install = position(f"RUN pip install --require-hashes -r {LOCK}")
    copy_source = position("COPY . ")
    assert copy_lock < install < copy_source


def test_the_project_itself_brings_no_dependency_of_its_own() -> None:
    project = position("RUN pip install --no-deps")
    assert project > position("COPY . ")
    assert "--no-build-isolation ." in instructions()[project]


def test_every_pip_install_is_locked_or_dependency_free() -> None:
    installs = [step for step in instructions() if "pip install" in step]
    assert installs, "the image installs nothing"
    assert all("--require-hashes" in step or "--no-deps" in step for step in installs), installs
