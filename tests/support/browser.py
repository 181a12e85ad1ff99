"""A real headless browser for end-to-end tests: Debian's chromium, installed on first use when missing."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_COMMAND = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium"

# Every switch that would make chromium reach the network or a user's profile is off: the page must work offline.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Another process (another engineer's session, unattended-upgrades) may hold the dpkg lock for a while.
_APT_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")
_INSTALL_TIMEOUT_SECONDS = 1200.0


class BrowserUnavailable(RuntimeError):
    """Chromium is missing and cannot be installed from here; the message says what to run."""


def chromium() -> Path:
    """The chromium binary, installed with apt-get first when it is missing and we are root."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        raise BrowserUnavailable(
            f"{CHROMIUM} is missing and installing it needs root; run: sudo sh -c '{INSTALL_COMMAND}'"
        )
    _apt_lists_updated()
    _apt_get("install", "-y", "chromium")
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"apt-get installed chromium but {CHROMIUM} is still missing; run: {INSTALL_COMMAND}")
    return CHROMIUM


@cache
def _apt_lists_updated() -> None:
    """`apt-get update` once per test session: it is slow and its result does not change within a run."""
    _apt_get("update")


def _apt_get(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", *_APT_LOCK_WAIT, *args]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BrowserUnavailable(f"{' '.join(command)} failed ({error}); run: {INSTALL_COMMAND}") from error
    if done.returncode != 0:
        raise BrowserUnavailable(
            f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-1500:]}; run: {INSTALL_COMMAND}"
        )


def dump_dom(url: str, *, timeout: float = 90.0) -> str:
    """The DOM after the page loaded and its scripts ran, serialised by chromium, for a file:// or http(s) URL."""
    binary = chromium()
    # A fresh profile per run: no state from an earlier run (or a user's browser) can leak into what we see.
    with tempfile.TemporaryDirectory(prefix="lhl-chromium-") as profile:
        command = [str(binary), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise AssertionError(f"chromium did not render {url} within {timeout:.0f}s") from error
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"chromium exited {done.returncode} rendering {url}: {done.stderr.strip()[-1500:]}")
    return done.stdout


@dataclass(frozen=True)
class Element:
    """One element of a rendered DOM: its tag, attributes and the text directly inside it."""

    tag: str
    attrs: dict[str, str | None]
    text: str

    @property
    def hidden(self) -> bool:
        return "hidden" in self.attrs


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Element] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.found.append(Element(tag, dict(attrs), ""))
        else:
            self._open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching tag: chromium's serialisation is well formed, so this is exact.
        while self._open:
            name, attrs, text = self._open.pop()
            self.found.append(Element(name, attrs, "".join(text).strip()))
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


def elements(dom: str) -> list[Element]:
    """Every element of the DOM, so a test can find them by id or data attribute."""
    parser = _Elements()
    parser.feed(dom)
    parser.close()
    return parser.found
