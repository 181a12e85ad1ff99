"""A real headless browser for end-to-end tests: Debian's chromium, installed on first use when missing."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tests.support import debian

CHROMIUM = Path("/usr/bin/chromium")

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

BrowserUnavailable = debian.PackageUnavailable
"""Chromium is missing and cannot be installed from here; the message says what to run."""


def chromium() -> Path:
    """The chromium binary, installed with apt-get first when it is missing and we are root."""
    return debian.program(CHROMIUM, "chromium")


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
