"""Websocket fan-out numbers: the api service (its own process) sends per-second EventRow events
to 50 connected websocket clients (this process). Latency is from publish on the bus to the
client having the event, so it covers Redis, the api's one reader, its queues and the socket.

Two runs:
- paced: 100 events/s for 5 s (as if 100 channels each sent their one row per second);
- burst: 5,000 events published as fast as the bus takes them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, EventRow
from shared.embedded_redis import EmbeddedRedis, free_port
from shared.settings import Settings
from shared.streams import EVENTS

REPO = Path(__file__).resolve().parent.parent
CLIENTS = 50
CHANNEL = "bench"
TOKEN = "bench-token-0123456789"


@dataclass
class Received:
    """What every client got in one run."""

    latencies: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0] * CLIENTS)
    last: float = 0.0


async def listen(index: int, ws: ClientConnection, got: Received, tag: str) -> None:
    """Read events until the end marker of this run."""
    async for raw in ws:
        event = json.loads(raw)
        if event.get("type") != "event":
            continue
        data = event["data"]
        now = time.time()
        if data["session"] == f"{tag}-end":  # the end marker
            got.last = max(got.last, now)
            return
        if data["session"] != tag:
            continue
        got.latencies.append(now - data["wall"])
        got.counts[index] += 1


def row(tag: str, t: float) -> EventRow:
    return EventRow(channel=CHANNEL, session=tag, t=t, dur=1.0, wall=time.time(), loud_db=-20.0,
                    motion_avg=2.0, excited_prob=0.5)


async def one_run(bus: Bus, sockets: list[ClientConnection], tag: str, events: int,
                  rate: float | None) -> dict[str, float]:
    got = Received()
    readers = [asyncio.create_task(listen(i, ws, got, tag)) for i, ws in enumerate(sockets)]
    start = time.time()
    if rate:
        for n in range(events):
            await bus.publish(EVENTS, row(tag, float(n)), channel=CHANNEL)
            await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.time()))
    else:
        for first in range(0, events, 100):
            batch = [(row(tag, float(n)), None) for n in range(first, min(events, first + 100))]
            await bus.publish_many(EVENTS, batch, channel=CHANNEL)
    published = time.time()
    await bus.publish(EVENTS, row(f"{tag}-end", 0.0), channel=CHANNEL)
    await asyncio.wait_for(asyncio.gather(*readers), 120)
    q = statistics.quantiles(got.latencies, n=100)
    delivered = sum(got.counts)
    return {
        "events_published": float(events),
        "publish_s": published - start,
        "deliveries": float(delivered),
        "deliveries_per_s": delivered / (got.last - start),
        "dropped_share": 1 - delivered / (events * CLIENTS),
        "latency_p50_ms": q[49] * 1000,
        "latency_p95_ms": q[94] * 1000,
        "latency_max_ms": max(got.latencies) * 1000,
    }


async def measure(redis_url: str, data: Path) -> dict[str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIP_LIVE_")}
    env.update(PYTHONPATH=str(REPO), CLIP_LIVE_REDIS_URL=redis_url, CLIP_LIVE_DATA_DIR=str(data),
               CLIP_LIVE_API_PORT=str(port), CLIP_LIVE_API_TOKEN=TOKEN,
               CLIP_LIVE_LOG_LEVEL="WARNING", CLIP_LIVE_STREAM_MAXLEN="100000")
    api = subprocess.Popen([sys.executable, "-m", "services.api"], cwd=REPO, env=env,
                           stdin=subprocess.DEVNULL)
    settings = Settings(redis_url=redis_url, data_dir=data, stream_maxlen=100_000)
    bus = await Bus.connect(redis_url, settings)
    sockets: list[ClientConnection] = []
    try:
        await save_state(bus.redis, ChannelState(channel=CHANNEL, session="s", state="live",
                                                 url="bench", wall=time.time()))
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(base + "/openapi.json")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        for _ in range(CLIENTS):
            ws = await connect(f"ws://127.0.0.1:{port}/ws", max_queue=None)
            await ws.send(json.dumps({"token": TOKEN, "channels": [CHANNEL]}))
            assert json.loads(await ws.recv())["type"] == "hello"
            sockets.append(ws)
        await asyncio.sleep(2.0)  # the api's reader picks the channel up from the registry
        results: dict[str, float] = {"clients": float(CLIENTS)}
        for name, events, rate in (("paced", 500, 100.0), ("burst", 5000, None)):
            for key, value in (await one_run(bus, sockets, name, events, rate)).items():
                results[f"{name}_{key}"] = value
        return results
    finally:
        for ws in sockets:
            await ws.close()
        await bus.close()
        api.terminate()
        api.wait(20)


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        return asyncio.run(measure(redis.url, Path(tmp) / "data"))


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<32} {value:,.2f}")
