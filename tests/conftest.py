"""Fixtures: the real broker and database for integration tests, and fresh isolated names per test."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import sys
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from lhl.acls import apply_namespace, remove_namespace
from runtime.check_processes import CheckProcesses
from tests.support import unraisable
from tests.support.infra import SERVICES, Infra, provide
from tests.support.kafka import Bus, delete_topics_with_prefix

REQUIRE_INTEGRATION = os.environ.get("LHL_REQUIRE_INTEGRATION") == "1"
HANG_REPORT_SECONDS = float(os.environ.get("LHL_HANG_REPORT_SECONDS", "240"))


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    try:
        provided, to_stop = provide()
    except Exception as error:
        if REQUIRE_INTEGRATION:
            pytest.fail(f"integration tests need Kafka and PostgreSQL and none could be started: {error}")
        pytest.skip(f"no Kafka/PostgreSQL available: {error}")
    yield provided
    for container in to_stop:
        container.stop()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
async def hang_reporter(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """If a test is still running after a while, print every asyncio task's stack, so a hang says where it is."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    async def report_later() -> None:
        await asyncio.sleep(HANG_REPORT_SECONDS)
        report = io.StringIO()
        print(f"\n--- {request.node.nodeid} still running after {HANG_REPORT_SECONDS} s ---", file=report)
        for task in asyncio.all_tasks():
            task.print_stack(file=report)
        # Twice: to the captured output, which a test failed by pytest-timeout shows with its failure, and past
        # the capture, for a hang that never reaches the point where captured output is shown.
        print(report.getvalue())
        with capture.global_and_fixture_disabled():
            print(report.getvalue(), file=sys.stderr)

    reporter = asyncio.create_task(report_later())
    yield
    reporter.cancel()


@pytest.fixture(params=["threads", "processes"])
async def checks_elsewhere(request: pytest.FixtureRequest) -> AsyncIterator[CheckProcesses | None]:
    """Where a large batch's signature checks are made: the threads (None) or started check processes."""
    if request.param == "threads":
        yield None
        return
    processes = CheckProcesses()
    assert await processes.start()
    yield processes
    await processes.close()


@pytest.fixture
def run_id() -> str:
    """A fresh id per test, used for topic prefixes and database schemas so tests never see each other."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(autouse=True)
def _collector_left_alone() -> Iterator[None]:
    """No test freezes the test process's heap or changes its collector (`runtime.heap.settle`, for a service in its
    own process): the tests' services run with `gc_tuning` off (`tests.support.services.settings_for`)."""
    before = gc.get_threshold()
    yield
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before), "a service settled the test process's heap"


@pytest.fixture(autouse=True)
async def _test_namespace(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """A test with its own run id gets the production ACLs for its prefix first, and leaves no topics, ACLs or
    schemas behind: a dev broker that piles up thousands of topics takes longer to start than the launcher waits.
    The cleanup is best effort; a refusal only costs a warning."""
    if not {"infra", "run_id"} <= set(request.fixturenames):
        yield
        return
    infra: Infra = request.getfixturevalue("infra")
    run_id: str = request.getfixturevalue("run_id")
    await apply_namespace(infra.kafka, f"t{run_id}.")
    yield
    try:
        async with asyncio.timeout(15):
            await delete_topics_with_prefix(infra.kafka, f"t{run_id}.")
            await remove_namespace(infra.kafka, f"t{run_id}.")
            await drop_schemas_with_prefix(infra, f"t{run_id}_")
    except Exception as error:  # cleanup must never fail the test it follows
        warnings.warn(f"could not delete the test's topics, ACLs and schemas t{run_id}*: {error!r}", stacklevel=1)


async def drop_schemas_with_prefix(infra: Infra, prefix: str) -> None:
    """Each schema is dropped by the role that owns it: no one role may drop them all."""
    for database_url in (infra.database_url, *(infra.service_database_url(s) for s in SERVICES)):
        conn = await asyncpg.connect(database_url)
        try:
            names = await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) AND pg_has_role(nspowner, 'USAGE')",
                prefix,
            )
            for row in names:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def bus(infra: Infra, run_id: str) -> AsyncIterator[Bus]:
    b = Bus(infra, prefix=f"t{run_id}.")
    await b.start()
    yield b
    await b.stop()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """After pytest's own unraisable hook is installed: ours writes what the event was about first."""
    unraisable.install()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts or "e2e" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI and `make test`, a skipped integration test is a failure, not a pass."""
    if not REQUIRE_INTEGRATION:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    integration_skips = [r for r in skipped if "integration" in getattr(r, "keywords", {})]
    if integration_skips:
        reporter.write_line(f"FAILED: {len(integration_skips)} integration test(s) skipped", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
