"""The pools no longer reset a session on release (`runtime.db.keep_session`), so nothing may leave state on one:
no session-level advisory lock, LISTEN, cursor WITH HOLD, SET or set_config, in the code's SQL or the migrations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for folder in ("runtime", "services", "lhl", "contracts") for p in (ROOT / folder).rglob("*.py")]
MIGRATIONS = [p for folder in ("runtime", "services") for p in (ROOT / folder).rglob("*.sql")]

SESSION_STATE_IN_CODE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\(|\bset_config\s*\(|add_listener\s*\(|\bWITH\s+HOLD\b"
    r"|[\"']\s*(SET|RESET|LISTEN|DECLARE)\s",
)
"""Case-sensitive: the code writes SQL keywords in capitals, and prose ("Set when ...") must not count."""
SESSION_STATEMENT = re.compile(r"^\s*(SET(?!\s+LOCAL\b)|RESET|LISTEN|DECLARE)\b", re.IGNORECASE)


def statements(sql: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return [s for s in without_comments.split(";") if s.strip()]


def test_the_scan_finds_what_it_is_there_to_find() -> None:
    assert SESSION_STATE_IN_CODE.search('await conn.execute("SELECT pg_advisory_lock(42)")')
    assert SESSION_STATE_IN_CODE.search("await conn.execute('SET statement_timeout = 0')")
    assert SESSION_STATE_IN_CODE.search("conn.add_listener('channel', callback)")
    assert not SESSION_STATE_IN_CODE.search('"SELECT pg_advisory_xact_lock(hashtext(current_schema()))"')
    assert not SESSION_STATE_IN_CODE.search('"UPDATE outbox SET published_at = now()"')
    assert [bool(SESSION_STATEMENT.match(s)) for s in statements("UPDATE t\n SET a = 1;\nSET search_path = x;")] == [
        False,
        True,
    ]
    assert not SESSION_STATEMENT.match("SET LOCAL lock_timeout = '1s'")


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_leaves_state_on_a_session(path: Path) -> None:
    found = [line.strip() for line in path.read_text().splitlines() if SESSION_STATE_IN_CODE.search(line)]
    assert not found, f"{path.relative_to(ROOT)} leaves session state, which no pool resets: {found}"


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_migration_leaves_state_on_a_session(path: Path) -> None:
    found = [s.strip() for s in statements(path.read_text()) if SESSION_STATEMENT.match(s)]
    assert not found, f"{path.relative_to(ROOT)} changes the session (use SET LOCAL): {found}"
