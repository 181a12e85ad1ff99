"""What cancelling timers by key prefix costs as the timers table grows, beside the statement it replaced.

Run with the stack's environment (`eval "$(python3 -m deploy.stack env)"`): `python -m benchmarks.timer_cancel`.
It fills a fresh schema's timers table (the runtime's migrations) with pending action-item timers, and at each size
cancels a level's watch by prefix, as a held meeting does, with `runtime.timers.cancel_prefix` and with the
`starts_with` statement alone, both prepared with generic plans as the services prepare them. The schema is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from runtime import db, timers

PREFIX = "contact-meetings/lhl-2019/vestland/"


async def run(sizes: list[int], repeats: int) -> None:
    schema = f"bench_timers_{uuid.uuid4().hex[:8]}"
    pool = await db.create_pool(os.environ["LHL_MEETINGS_DATABASE_URL"], schema, generic_plans=True)
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS])
        now = datetime.now(UTC)
        print("| pending timers | cancel_prefix | starts_with alone |\n|---|---|---|")
        async with pool.acquire() as conn:
            for size in sizes:
                have = await conn.fetchval("SELECT count(*) FROM timers")
                due = now + timedelta(days=30)
                rows: list[tuple[str, str, datetime, dict[str, str]]] = [
                    (f"action-item/lhl-2019/{uuid.uuid4().hex}/overdue", "overdue", due, {}) for _ in range(size - have)
                ]
                await timers.schedule_many(conn, rows)
                await conn.execute("ANALYZE timers")
                started = time.perf_counter()
                for _ in range(repeats):
                    await timers.cancel_prefix(conn, PREFIX, now)
                ranged = (time.perf_counter() - started) / repeats
                started = time.perf_counter()
                for _ in range(repeats):
                    await conn.execute(timers.PENDING_WITH_PREFIX, PREFIX, now, None)  # without the key range
                alone = (time.perf_counter() - started) / repeats
                print(f"| {size:,} | {ranged * 1000:.2f} ms | {alone * 1000:.2f} ms |")
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(run(options.sizes, options.repeats))


if __name__ == "__main__":
    main()
