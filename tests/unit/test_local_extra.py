"""aiosmtpd is in the `local` extra only: the image never imports it, and a command that needs it says so."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from deploy import lockfile
from lhl.cli import app
from lhl.demo.mailbox import Mailbox, SinkUnavailableError

IMPORTED_BY_THE_IMAGE = [
    "lhl.cli",
    "services.meetings.app",
    "services.evaluations.app",
    "services.notifications.app",
    "services.audit.app",
]


def test_the_services_and_the_cli_never_import_aiosmtpd() -> None:
    # In a fresh interpreter, with aiosmtpd installed: an import of it anywhere (even one that `lhl` would swallow
    # as a command missing from this checkout) leaves it in sys.modules.
    script = (
        "import importlib, sys\n"
        f"for name in {IMPORTED_BY_THE_IMAGE!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiosmtpd'))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=lockfile.ROOT, check=True, timeout=60, capture_output=True, text=True
    )
    assert run.stdout.strip() == "[]"


def without_aiosmtpd(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("aiosmtpd", "aiosmtpd.controller"):
        monkeypatch.setitem(sys.modules, name, None)


def test_the_local_sink_without_aiosmtpd_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    without_aiosmtpd(monkeypatch)
    with pytest.raises(SinkUnavailableError, match="`local` extra"):
        Mailbox().start()


def test_lhl_run_without_aiosmtpd_or_smtp_host_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    without_aiosmtpd(monkeypatch)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    result = CliRunner().invoke(app, ["run", "notifications"])
    assert result.exit_code == 1
    assert "aiosmtpd" in result.output
    assert "set SMTP_HOST" in result.output
