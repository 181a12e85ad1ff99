"""Health endpoints and Prometheus metrics, served by a small HTTP listener beside each service."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

from contracts import catalog
from runtime.logging import get_logger

UNKNOWN_TYPE = "unknown"
"""The event_type label of a record whose type the catalogue does not name, or that has none."""
ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]
Refresh = Callable[[], Awaitable[None]]


class Metrics:
    """One registry per service instance, so tests can run several services in one process."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        # process_* (CPU, memory, open files, start time) and python_info, as every Prometheus exporter has them.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.consumed = Counter("lhl_events_consumed", "Records consumed, by topic.", ["service", "topic"], registry=r)
        self.outcomes = Counter(
            "lhl_events",
            "Records handled, by event type and outcome (processed, duplicate, dead_lettered).",
            ["service", "event_type", "outcome"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "lhl_events_dead_lettered",
            "Records dead-lettered, by event type and reason.",
            ["service", "event_type", "reason"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "lhl_handler_duration_seconds",
            "Time to handle one record, transaction included.",
            ["service", "event_type"],
            registry=r,
        )
        self._series: dict[tuple[str, str, str], tuple[Counter, Counter, Histogram]] = {}
        self.gc_pause = Histogram(
            "lhl_gc_pause_seconds",
            "Pauses of Python's garbage collector, by generation; every record in flight waits them out.",
            ["service", "generation"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, float("inf")),
            registry=r,
        )
        self.outbox_backlog = Gauge("lhl_outbox_backlog", "Outbox rows not yet published.", ["service"], registry=r)
        self.outbox_oldest_age = Gauge(
            "lhl_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.", ["service"], registry=r
        )
        self.outbox_published = Counter(
            "lhl_outbox_published",
            "Outbox rows the broker took, deleted from the outbox in the same pass.",
            ["service"],
            registry=r,
        )
        self.outbox_set_aside = Gauge(
            "lhl_outbox_set_aside",
            "Outbox rows the broker refused for good, set aside so the rows behind them go on.",
            ["service"],
            registry=r,
        )
        self.timers_pending = Gauge("lhl_timers_pending", "Timers waiting to fire.", ["service"], registry=r)
        self.timer_lag = Histogram(
            "lhl_timer_firing_lag_seconds",
            "How late (clock time) a timer fired after its due instant.",
            ["service"],
            buckets=(0.1, 1, 5, 30, 60, 300, 3600, 86400, float("inf")),
            registry=r,
        )
        self.retention_deleted = Counter(
            "lhl_retention_deleted",
            "Rows deleted by retention, by table (the inbox; the relay deletes what it published from the outbox).",
            ["service", "table"],
            registry=r,
        )
        self.check_process_failures = Counter(
            "lhl_check_process_failures",
            "Check processes that died, fell silent or would not start; their checks were made in threads.",
            ["service"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "lhl_consumer_lag",
            "Records behind the partition's end: its end offset minus the group's committed offset, read at scrape.",
            ["service", "topic", "partition"],
            registry=r,
        )

        # Only the notifications service sets this one.
        self.deliveries = Counter(
            "lhl_deliveries",
            "Notification delivery attempts, by channel and outcome (delivered, retry_scheduled, failed, crashed).",
            ["service", "channel", "outcome"],
            registry=r,
        )
        # Only the audit service sets these.
        self.audit_records = Gauge(
            "lhl_audit_records", "Records in the audit log (its head's seq).", ["service"], registry=r
        )
        self.audit_checkpoint_time = Gauge(
            "lhl_audit_checkpoint_timestamp_seconds",
            "When (Unix time, service clock) this process last wrote a signed checkpoint.",
            ["service"],
            registry=r,
        )

    def check_process_failed(self) -> None:
        self.check_process_failures.labels(self.service).inc()

    def observe_gc_pause(self, generation: str, seconds: float) -> None:
        self.gc_pause.labels(self.service, generation).observe(seconds)

    def observe_record(
        self, topic: str, event_type: str | None, outcome: str, reason: str | None, seconds: float
    ) -> None:
        """One record's outcome. The event type is a label only when the catalogue names it: a rejected record's
        type is whatever its sender wrote, and a series per made-up type would grow the registry (and every
        scrape) without bound; those are all `unknown`, as a record without a type is."""
        kind = event_type if event_type in catalog.BY_NAME else UNKNOWN_TYPE
        series = self._series.get((topic, kind, outcome))
        if series is None:  # prometheus_client's labels() costs about 1.5 µs a call; a service has few series
            series = self._series[topic, kind, outcome] = (
                self.consumed.labels(self.service, topic),
                self.outcomes.labels(self.service, kind, outcome),
                self.handler_seconds.labels(self.service, kind),
            )
        consumed, outcomes, handler_seconds = series
        consumed.inc()
        outcomes.inc()
        handler_seconds.observe(seconds)
        if reason is not None:
            self.dead_lettered.labels(self.service, kind, reason).inc()

    def observe_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace every partition's lag, so a partition no longer consumed leaves no stale series behind."""
        self.consumer_lag.clear()
        for (topic, partition), behind in lag.items():
            self.consumer_lag.labels(self.service, topic, str(partition)).set(behind)

    def observe_delivery(self, channel: str, outcome: str) -> None:
        self.deliveries.labels(self.service, channel, outcome).inc()

    def observe_published(self, rows: int) -> None:
        self.outbox_published.labels(self.service).inc(rows)

    def observe_retention(self, table: str, deleted: int) -> None:
        self.retention_deleted.labels(self.service, table).inc(deleted)

    def observe_timer_lag(self, seconds: float) -> None:
        self.timer_lag.labels(self.service).observe(seconds)


@dataclass
class HealthServer:
    """GET /health/live, /health/ready and /metrics on 127.0.0.1 (or the configured host)."""

    metrics: Metrics
    ready: ReadinessCheck
    refresh: Refresh
    host: str = "127.0.0.1"
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        get_logger(component="http").info("http_listening", host=self.host, port=self.bound_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            accept = ""
            async with asyncio.timeout(5):
                request_line = await reader.readline()
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "accept":
                        accept = value.strip()
            parts = request_line.decode(errors="replace").split()
            path = parts[1] if len(parts) >= 2 else "/"
            status, content_type, body = await self._route(parts[0] if parts else "", path, accept)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _route(self, method: str, path: str, accept: str = "") -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        if path == "/health/live":
            return "200 OK", "application/json", b'{"status": "alive"}\n'
        if path == "/health/ready":
            checks = await self.ready()
            ok = all(checks.values())
            body = json.dumps({"status": "ready" if ok else "not_ready", "checks": checks}).encode() + b"\n"
            return ("200 OK" if ok else "503 Service Unavailable"), "application/json", body
        if path == "/metrics":
            await self.refresh()
            # Prometheus asks for OpenMetrics first (exemplars, _created, # EOF); other scrapers get the text format.
            encode, content_type = choose_encoder(accept)
            return "200 OK", content_type, encode(self.metrics.registry)
        return "404 Not Found", "text/plain", b"try /health/live, /health/ready or /metrics\n"
