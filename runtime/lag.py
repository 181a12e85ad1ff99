"""Consumer lag read from the broker when metrics are scraped: each partition's end offset minus what the group
committed.

Setting the gauge when a record finished made it lie exactly when it mattered: a consumer stuck on a record
finishes nothing, so its lag stood still while the topic grew, and the lag alarm could never fire. Asking the
broker at scrape time measures what the group has really committed, so a stuck consumer's lag grows. A partition
the group never committed counts from its first offset (the services start from the earliest record).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from runtime.kafka_access import KafkaAccess
from runtime.logging import get_logger
from runtime.observability import Metrics

Lag = dict[tuple[str, int], int]


class LagProbe:
    """Asks the broker for end and committed offsets, at most once per `cache_seconds`, within `timeout_seconds`."""

    def __init__(
        self,
        kafka: KafkaAccess,
        group_id: str,
        topics: Sequence[str],
        *,
        cache_seconds: float = 5.0,
        timeout_seconds: float = 3.0,
    ) -> None:
        self._kafka = kafka
        self._group_id = group_id
        self._topics = tuple(topics)
        self._cache_seconds = cache_seconds
        self._timeout = timeout_seconds
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._measured: tuple[float, Lag] | None = None
        self._lock = asyncio.Lock()

    async def measure(self) -> Lag:
        """Records behind the end, per (topic, partition); raises when the broker does not answer in time."""
        async with self._lock:  # concurrent scrapes share one round trip
            if self._measured is not None and time.monotonic() - self._measured[0] < self._cache_seconds:
                return self._measured[1]
            async with asyncio.timeout(self._timeout):
                lag = await self._ask()
            self._measured = (time.monotonic(), lag)
            return lag

    async def _ask(self) -> Lag:
        admin, offsets = await self._clients()
        # Asked each time, so partitions added to a topic are seen; a topic not created yet has none.
        described = await admin.describe_topics(list(self._topics))
        partitions = sorted(
            TopicPartition(topic["topic"], p["partition"])
            for topic in described
            if topic["error_code"] == 0
            for p in topic["partitions"]
        )
        if not partitions:
            return {}
        committed = await admin.list_consumer_group_offsets(self._group_id, partitions=partitions)
        ends = await offsets.end_offsets(partitions)
        firsts = await offsets.beginning_offsets(partitions)
        lag: Lag = {}
        for tp in partitions:
            done = committed.get(tp)
            position = done.offset if done is not None and done.offset >= 0 else firsts[tp]
            lag[(tp.topic, tp.partition)] = max(ends[tp] - position, 0)
        return lag

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        # Kept open between scrapes: a connection per scrape would cost more than the question.
        if self._admin is None:
            admin = AIOKafkaAdminClient(**self._kafka.options(), client_id="lhl-lag-probe")
            await admin.start()
            self._admin = admin
        if self._offsets is None:
            # No group: this consumer only asks for offsets, it never joins or commits.
            offsets = AIOKafkaConsumer(
                **self._kafka.options(), group_id=None, enable_auto_commit=False, client_id="lhl-lag-probe"
            )
            await offsets.start()
            self._offsets = offsets
        return self._admin, self._offsets

    async def close(self) -> None:
        if self._offsets is not None:
            await self._offsets.stop()
            self._offsets = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None


async def refresh_lag(probe: LagProbe, metrics: Metrics) -> None:
    """Before a scrape: the lag as the broker has it, or no lag series at all when it does not answer (a stale
    value would say the service is keeping up when nobody knows)."""
    try:
        lag = await probe.measure()
    except (KafkaError, OSError, TimeoutError) as error:
        get_logger(component="lag").warning(
            "consumer_lag_unavailable", error_class=type(error).__name__, error=str(error)
        )
        metrics.observe_lag({})
        return
    metrics.observe_lag(lag)
