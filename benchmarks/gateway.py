"""How many events a second the gateway accepts through `POST /events`, beside the raw Kafka publish rate.

Run: `make bench-gateway`, or `python -m benchmarks.gateway --events 2000` with the stack's environment
(`python3 -m deploy.stack env`). It starts the gateway as `lhl run` does (uvicorn, its own process, its own
principal and role) on a fresh topic prefix and schema, with a throwaway issuer and keys, then:
1. the raw rate: the same events, signed, sent by one aiokafka producer (acks=all, idempotent), all in flight;
2. the gateway's rate with `--concurrency` clients each posting one event at a time (202 latency p50/p99);
3. the gateway's rate with batches of `--batch` events.
The topics, ACLs and schema are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks.environment import cpu_seconds
from contracts import topics
from contracts.envelope import BATCH_CONTENT_TYPE, CONTENT_TYPE, CloudEvent
from contracts.events.meetings import ContactMeetingHeld, MeetingKind
from contracts.reference import organisations
from contracts.signing import sign_event
from contracts.topics import partition_key
from lhl import services
from lhl.acls import apply_namespace, remove_namespace
from lhl.token import LocalIssuer
from runtime import keystore
from runtime.settings import RuntimeSettings

SOURCE = "/statsforvalteren/vestland/moter"
ORGANISATION = "sf-vestland"
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
WARM_UP = 50


def meeting(run: str, index: int) -> CloudEvent:
    data = ContactMeetingHeld(
        meeting_id=f"bench-{run}-{index}",
        agreement_id="leve-hele-livet-2019-2023",
        kind=MeetingKind.REGIONAL,
        region="vestland",
        county="46",
        held_on="2022-03-10",  # type: ignore[arg-type]
        organiser="sf-vestland",
        participants=("sf-vestland", "ks-vestland"),
    )
    return CloudEvent(
        specversion="1.0",
        id=str(uuid.uuid4()),
        source=SOURCE,
        type="no.levehelelivet.meeting.held.v1",
        time="2022-03-10T12:00:00+01:00",  # type: ignore[arg-type]
        dataschema="urn:levehelelivet:schema:meeting.held:v1",
        correlationid=str(uuid.uuid4()),
        partitionkey=partition_key("leve-hele-livet-2019-2023", "vestland"),
        data=data.model_dump(mode="json"),
    )


async def raw_rate(settings: RuntimeSettings, events: list[CloudEvent]) -> float:
    """The ceiling: signed events straight to the ingress topic, every send in flight at once."""
    producer = AIOKafkaProducer(**settings.kafka.options(), acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [
            await producer.send(
                settings.topic(topics.MEETINGS_INGRESS),
                e.to_bytes(),
                key=e.partitionkey.encode(),
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
            for e in events
        ]
        await asyncio.gather(*pending)
        return len(events) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def single_posts(
    url: str, token: str, events: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float]]:
    """Each client posts one event at a time and waits for its 202: accepted events/s and every 202's latency."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE}

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            event = queue.get_nowait()
            started = time.perf_counter()
            answer = await http.post("/events", content=json.dumps(event), headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"the gateway answered {answer.status_code}: {answer.text}")
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return len(events) / (time.perf_counter() - started), latencies


async def batch_posts(url: str, token: str, events: list[dict[str, Any]], batch: int, concurrency: int) -> float:
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": BATCH_CONTENT_TYPE}
    semaphore = asyncio.Semaphore(concurrency)

    async def post(http: httpx.AsyncClient, body: list[dict[str, Any]]) -> None:
        async with semaphore:
            answer = await http.post("/events", content=json.dumps(body), headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"the gateway answered {answer.status_code}: {answer.text}")

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(post(http, b) for b in batches))
        return len(events) / (time.perf_counter() - started)


async def wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http, asyncio.timeout(90):
        while True:
            if process.returncode is not None:
                raise RuntimeError("the gateway exited before it was ready")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{url}/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.3)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(count: int, concurrency: int, batch: int) -> None:
    tag = uuid.uuid4().hex[:8]
    prefix, schema = f"bench{tag}.", f"bench_{tag}_gateway"
    keys_dir = Path(tempfile.mkdtemp(prefix="lhl-bench-keys-"))
    operator = RuntimeSettings(service_name="bench", topic_prefix=prefix)
    signer = keystore.ensure_source_keys(keys_dir, keys_dir / "registry.json", [SOURCE], SINCE)[SOURCE]
    issuer = LocalIssuer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    number = next(o.organisation_number for o in organisations().organisations if o.id == ORGANISATION)
    assert number is not None
    token = issuer.mint(number, ["lhl:events.publish"], lifetime_seconds=3600)
    await apply_namespace(operator.kafka, prefix)
    port = _free_port()
    env = {
        **os.environ,
        "KEYS_DIR": str(keys_dir),
        "TOPIC_PREFIX": prefix,
        "DB_SCHEMA": schema,
        "LHL_GATEWAY_TOKEN_JWKS": json.dumps(issuer.jwks()),
        "LOG_LEVEL": "WARNING",
    }
    keystore.ensure_service_key(keys_dir, keys_dir / "registry.json", services.GATEWAY, SINCE)
    gateway = await asyncio.create_subprocess_exec(*services.command(services.GATEWAY, port), env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, gateway)
        raw = await raw_rate(operator, [sign_event(meeting(tag, i), signer) for i in range(count)])
        posted = [json.loads(meeting(tag, i).to_bytes()) for i in range(count)]
        await single_posts(url, token, posted[:WARM_UP], concurrency)  # connections and caches, not measured
        cpu_before = cpu_seconds(gateway.pid)
        singles, latencies = await single_posts(url, token, posted[WARM_UP:], concurrency)
        cpu_per_event = (cpu_seconds(gateway.pid) - cpu_before) / len(latencies)
        fresh = [json.loads(meeting(tag, i).to_bytes()) for i in range(count)]
        batched = await batch_posts(url, token, fresh, batch, 4)
    finally:
        gateway.terminate()
        await gateway.wait()
        await clean_up(operator, schema)
    print(f"events: {count}; gateway clients: {concurrency}; batch size: {batch}")
    print(f"raw Kafka publish (acks=all, signed, all in flight): {raw:,.0f} events/s")
    print(f"POST /events, one event per request:                 {singles:,.0f} events/s ({singles / raw:.1%} of raw)")
    p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
    print(f"  202 latency over {len(latencies)} requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"  the gateway's CPU per accepted event: {cpu_per_event * 1000:.1f} ms (one process)")
    print(f"POST /events, batches of {batch}:                     {batched:,.0f} events/s ({batched / raw:.1%} of raw)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def clean_up(operator: RuntimeSettings, schema: str) -> None:
    admin = AIOKafkaAdminClient(**operator.kafka.options())
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics([operator.topic(t) for t in topics.INGRESS_TOPICS])
    finally:
        await admin.close()
    await remove_namespace(operator.kafka, operator.topic_prefix)
    conn = await asyncpg.connect(os.environ["LHL_GATEWAY_DATABASE_URL"])
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per measurement (more than 50)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients posting at once")
    parser.add_argument("--batch", type=int, default=50, help="events per batch")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.events, arguments.concurrency, arguments.batch))


if __name__ == "__main__":
    main()
