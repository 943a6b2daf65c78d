"""Bus numbers: messages per second for 1 KB messages, one at a time and batched, and the time
from publish to handle (p50, p99) through a consumer group."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shared.bus import Bus, Delivery
from shared.contracts import Contract
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings
from shared.streams import Topic


class Payload(Contract):
    sent: float
    body: str


TOPIC = Topic("bench", Payload, per_channel=False)
BODY = "x" * 1000  # about 1 KB on the wire with the JSON around it



async def consume_all(bus: Bus, streams: dict[str, Topic[Any]], total: int) -> float:
    """Read `total` messages from `streams` through one consumer group; messages a second."""
    handled = 0
    stop = asyncio.Event()

    async def count(delivery: Delivery[Any]) -> None:
        nonlocal handled
        handled += 1
        if handled >= total:
            stop.set()

    start = time.perf_counter()
    await bus.consume(streams, "bench", "c1", count, stop)
    return total / (time.perf_counter() - start)

async def measure(url: str) -> dict[str, float]:
    settings = Settings(redis_url=url, stream_maxlen=100_000, read_batch=100, read_block_ms=50)
    bus = await Bus.connect(url, settings)
    n = 5_000
    start = time.perf_counter()
    for _ in range(n):
        await bus.publish(TOPIC, Payload(sent=0, body=BODY))
    single = n / (time.perf_counter() - start)

    n_batched = 50_000
    start = time.perf_counter()
    for _ in range(n_batched // 100):
        await bus.publish_many(TOPIC, [(Payload(sent=0, body=BODY), None)] * 100)
    batched = n_batched / (time.perf_counter() - start)

    # Consume everything through a group, batched reads.
    consumed = await consume_all(bus, {TOPIC.stream(): TOPIC}, n + n_batched)

    # Latency: publish one message every 2 ms, handled by a consumer in the same loop.
    latencies: list[float] = []
    stop = asyncio.Event()

    async def timed(delivery: Delivery[Payload]) -> None:
        latencies.append(time.perf_counter() - delivery.message.sent)

    await bus.redis.delete(TOPIC.stream())
    consumer = asyncio.create_task(bus.consume({TOPIC.stream(): TOPIC}, "lat", "c1", timed, stop))
    await asyncio.sleep(0.2)
    for _ in range(2_000):
        await bus.publish(TOPIC, Payload(sent=time.perf_counter(), body=BODY))
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.3)
    stop.set()
    await consumer
    await bus.close()
    q = statistics.quantiles(latencies, n=100)
    return {
        "publish_single_msgs_per_s": single,
        "publish_batched100_msgs_per_s": batched,
        "consume_group_batched_msgs_per_s": consumed,
        "latency_p50_ms": q[49] * 1000,
        "latency_p99_ms": q[98] * 1000,
        "latency_samples": len(latencies),
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as redis:
        return asyncio.run(measure(redis.url))
