"""The registry the verification threads share: each thread sees the keys on file, even while one reads them, and a
registry broken by an edit neither stops verification nor passes unnoticed."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog.testing

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


def test_a_registry_broken_by_an_edit_leaves_the_keys_read_before_in_force_and_says_so_once(tmp_path: Path) -> None:
    registry_file = tmp_path / "registry.json"
    signers = keystore.ensure_source_keys(tmp_path, registry_file, [VESTLAND], datetime(2020, 1, 1, tzinfo=UTC))
    trusted = TrustedKeys([registry_file], recheck_seconds=0)
    assert trusted.current().get(signers[VESTLAND].key_id) is not None

    good = registry_file.read_text(encoding="utf-8")
    registry_file.write_text(good.replace('"keys": [', '"keys": [{"key_id": "half an edit"}, ', 1), encoding="utf-8")
    with structlog.testing.capture_logs() as logged:
        for _ in range(3):
            assert trusted.current().get(signers[VESTLAND].key_id) is not None

    assert [line["event"] for line in logged] == ["key_registry_unreadable"]
    assert logged[0]["log_level"] == "error"
    assert logged[0]["keys_kept"] == 1

    registry_file.write_text(good, encoding="utf-8")
    other = keystore.ensure_source_keys(tmp_path, registry_file, ["/ks/moter"], datetime(2020, 1, 1, tzinfo=UTC))
    assert trusted.current().get(other["/ks/moter"].key_id) is not None  # a repaired registry is read again


def test_a_service_does_not_start_on_a_registry_it_cannot_read(tmp_path: Path) -> None:
    registry_file = tmp_path / "registry.json"
    registry_file.write_text('{"format": "lhl-key-registry/1", "keys": [', encoding="utf-8")

    with pytest.raises(ValueError, match="the key registry cannot be read"):
        TrustedKeys.installed(registry_file)


def test_no_registry_files_is_an_empty_registry_not_a_failure() -> None:
    assert TrustedKeys([]).current().keys == ()
