"""The registry the verification threads share: each thread sees the keys on file, even while one reads them."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.keys import KeyRegistry
from runtime import keystore
from runtime.verification import TrustedKeys

VESTLAND = "/statsforvalteren/vestland/moter"


def test_a_thread_asking_while_another_reads_the_files_gets_the_keys_not_an_empty_registry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    registry_file = tmp_path / "registry.json"
    signers = keystore.ensure_source_keys(tmp_path, registry_file, [VESTLAND], datetime(2020, 1, 1, tzinfo=UTC))
    reading = threading.Event()
    real_load = KeyRegistry.load

    def slow_load(cls: type[KeyRegistry], files: Sequence[Path]) -> KeyRegistry:
        reading.set()
        time.sleep(0.2)  # a registry file on a slow disk, or a large one
        return real_load(files)

    monkeypatch.setattr(KeyRegistry, "load", classmethod(slow_load))
    trusted = TrustedKeys([registry_file])

    def second() -> KeyRegistry:
        reading.wait()
        return trusted.current()

    with ThreadPoolExecutor(2) as threads:
        first_seen = threads.submit(trusted.current)
        second_seen = threads.submit(second)
        registries = [first_seen.result(), second_seen.result()]

    for registry in registries:
        assert registry.get(signers[VESTLAND].key_id) is not None
