"""Bus throughput on Redis Cluster vs one Redis: messages per second through the real bus.

The same work on each: 1 KB messages published in batches of 100 over `CHANNELS` channels
(whose streams spread over the shards of the cluster), then all read back through one
consumer group that reads every channel at once; and one-at-a-time publishes. The cluster is
three masters on loopback ports (`tests/local_cluster.py`); the single Redis is one
redis-server on this machine with the same settings (no saving to disk). Both run on the same
cores, so this shows what the cluster costs a client, not what more machines would give.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import redis

from bench.bus import consume_all
from shared.bus import Bus
from shared.cluster import is_cluster
from shared.contracts import Contract
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings
from shared.streams import Topic
from tests.local_cluster import LocalCluster

CHANNELS = 6
BATCHED = 30_000
SINGLE = 3_000
BODY = "x" * 1000  # about 1 KB on the wire with the JSON around it


class Payload(Contract):
    body: str


TOPIC = Topic("bench-cluster", Payload)


async def measure(url: str) -> dict[str, float]:
    settings = Settings(redis_url=url, stream_maxlen=100_000, read_batch=100, read_block_ms=50)
    bus = await Bus.connect(url, settings)
    channels = [f"bench{i}" for i in range(CHANNELS)]
    start = time.perf_counter()
    for i in range(SINGLE):
        await bus.publish(TOPIC, Payload(body=BODY), channel=channels[i % CHANNELS])
    single = SINGLE / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(BATCHED // 100):
        await bus.publish_many(TOPIC, [(Payload(body=BODY), None)] * 100,
                               channel=channels[i % CHANNELS])
    batched = BATCHED / (time.perf_counter() - start)

    consumed = await consume_all(bus, {TOPIC.stream(c): TOPIC for c in channels},
                                 SINGLE + BATCHED)
    shards = len({str(bus.redis.get_node_from_key(TOPIC.stream(c)))  # type: ignore[attr-defined]
                  for c in channels}) if is_cluster(bus.redis) else 1
    await bus.close()
    return {"publish_single": single, "publish_batched100": batched, "consume_group": consumed,
            "shards_used": shards}


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        with EmbeddedRedis(Path(tmp) / "single") as server:
            plain = redis.Redis.from_url(server.url)
            plain.config_set("appendonly", "no")  # as the cluster's nodes
            plain.close()
            one = asyncio.run(measure(server.url))
        with LocalCluster(Path(tmp) / "cluster") as cluster:
            many = asyncio.run(measure(cluster.url))
    numbers: dict[str, float] = {"channels": CHANNELS,
                                 "cluster3_shards_used": many.pop("shards_used")}
    one.pop("shards_used")
    for name in one:
        numbers[f"single_{name}_msgs_per_s"] = one[name]
        numbers[f"cluster3_{name}_msgs_per_s"] = many[name]
        numbers[f"ratio_cluster_vs_single_{name}"] = many[name] / one[name]
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<50} {value:,.2f}")
