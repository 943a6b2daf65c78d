"""Fuser numbers: CPU per stream-second of the decider, and the time from a spike to its
`new_spike` message (the wall time at the end of the spike's second vs the publish time),
with signals published live-paced through a real Redis to the running fuser service."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from pathlib import Path

from services.fuser import service, signals
from services.fuser.decider import Decider, FuserConfig
from services.fuser.model import ModelStore
from services.fuser.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState
from shared.embedded_redis import EmbeddedRedis
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import SPIKES
from tests.services.fuser.scenario import CHANNEL, SESSION, stream


def cpu_ms_per_stream_s(folder: Path, seconds: int = 600) -> float:
    model = ModelStore(folder / "models").load_current()
    ids = (str(i) for i in itertools.count())
    fuser = Decider(CHANNEL, FuserConfig(), model, lambda *_: next(ids), time.time)
    messages = stream(seconds=seconds, moment=300)
    start = time.process_time()
    for message in messages:
        fuser.add(message)
        fuser.step()
    return (time.process_time() - start) * 1000 / seconds


async def spike_latency(folder: Path, url: str, moments: int = 3) -> list[float]:
    settings = Settings(redis_url=url, data_dir=folder / "data", read_block_ms=50)
    bus = await Bus.connect(url, settings)
    await save_state(bus.redis, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                             url="bench", wall=time.time()))
    task = asyncio.create_task(run_service(WORKER, service.main, settings))
    await asyncio.sleep(2.0)
    seconds = 30 + 40 * moments
    start = time.time()
    by_second: dict[int, list] = {}
    for message in stream(seconds=seconds, moment=None):
        by_second.setdefault(int(message.t), []).append(message)
    hot = {30 + 40 * k for k in range(moments)}
    hot_messages = {t: stream(seconds=t + 5, moment=t) for t in hot}
    for t in range(seconds):
        moment = next((m for m in hot if m <= t < m + 5), None)
        batch = ([m for m in hot_messages[moment] if int(m.t) == t] if moment is not None
                 else by_second.get(t, []))
        await asyncio.sleep(max(0.0, start + t + 1 - time.time()))  # a second is over
        for message in batch:
            shifted = message.model_copy(update={"wall": start + message.t})
            await bus.publish(signals.by_model(type(message)).topic, shifted, channel=CHANNEL)
    await asyncio.sleep(6.0)
    spikes = await bus.read(SPIKES, channel=CHANNEL, count=1000)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await bus.close()
    # The stream id holds the publish time in ms.
    return [int(s.id.split("-")[0]) / 1000 - (s.message.wall + 1.0) for s in spikes
            if s.message.job_id]


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        cpu = cpu_ms_per_stream_s(Path(tmp))
        latencies = asyncio.run(spike_latency(Path(tmp), redis.url))
    return {
        "fuser_cpu_ms_per_stream_s": cpu,
        "spike_to_new_spike_s_median": statistics.median(latencies) if latencies else -1.0,
        "spike_to_new_spike_s_max": max(latencies) if latencies else -1.0,
        "spikes_measured": float(len(latencies)),
    }
