"""With OTEL_EXPORTER_OTLP_ENDPOINT set, a service sends its spans to that collector, in the publisher's trace."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from datetime import date
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from contracts import topics
from contracts.envelope import CONTENT_TYPE
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.http import LocalHttpServer, Request, free_port
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.processes import LHL, wait_until_ready
from tests.support.signing import keys_for_tests


class Collector(LocalHttpServer):
    """Answers OTLP/HTTP exports with 200 and keeps each request's spans as (trace id, service name, span name),
    their span ids and the resource attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, str, str]] = []
        self.span_ids: dict[str, str] = {}
        """Span id -> trace id."""
        self.resources: list[dict[str, str]] = []
        self.paths: list[str] = []

    def answer(self, request: Request) -> bytes:
        self.paths.append(request.path)
        for resource_spans in ExportTraceServiceRequest.FromString(request.body).resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            self.resources.append(attributes)
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append((span.trace_id.hex(), attributes.get("service.name", ""), span.name))
                    self.span_ids[span.span_id.hex()] = span.trace_id.hex()
        return b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"


async def test_the_spans_of_a_consumed_event_reach_the_configured_collector_in_its_trace(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    collector = Collector()
    await collector.start()
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "KEYS_DIR": str(keys_for_tests().directory),
        "TOPIC_PREFIX": bus.prefix,
        "DB_SCHEMA": f"t{run_id}_meetings",
        "HTTP_PORT": str(port),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment=test-{run_id}",
    }
    the_trace = secrets.token_hex(16)
    traceparent = f"00-{the_trace}-{secrets.token_hex(8)}-01"
    held = national_meeting_held(held_on=date(2022, 3, 10))
    unsigned = cloud_event(held, source=NATIONAL_SECRETARIAT).model_copy(update={"traceparent": traceparent})
    event = keys_for_tests().sign(unsigned)
    with (tmp_path / "run.log").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(LHL), "run", "meetings", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await wait_until_ready(f"http://127.0.0.1:{port}/health/ready", process)
            await bus.publish_raw(
                topics.MEETINGS_INGRESS,
                event.to_bytes(),
                key=event.partitionkey,
                headers={"content-type": CONTENT_TYPE, "traceparent": traceparent},
            )
            async with asyncio.timeout(30):
                while not any(trace_id == the_trace for trace_id, _, _ in collector.spans):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await collector.stop()
    ours = [(service, name) for trace_id, service, name in collector.spans if trace_id == the_trace]
    assert set(collector.paths) == {"/v1/traces"}
    assert {service for service, _ in ours} == {"lhl-meetings"}
    assert any(topics.MEETINGS_INGRESS in name for _, name in ours), ours
    assert {r.get("deployment.environment") for r in collector.resources} == {f"test-{run_id}"}
    # The service's log line about the event names the trace and the very span the collector received.
    lines = [json.loads(line) for line in (tmp_path / "run.log").read_text().splitlines() if line.startswith("{")]
    processed = next(line for line in lines if line["event"] == "event_processed" and line["event_id"] == event.id)
    assert processed["trace_id"] == the_trace
    assert collector.span_ids.get(processed["span_id"]) == the_trace
    assert not any("trace_id" in line for line in lines if line["event"] == "service_started")
