"""audio_features on a real live stream: ingest feeds it, two replicas share the chunks, and
every half second of stream time gets exactly one features message."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from launcher.live_hls import LiveHls
from services.audio_features import service
from services.audio_features.worker import WORKER
from shared.bus import Bus
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import AUDIO, AUDIO_FEATURES
from tests.services.ingest.support import command, messages, quick, running_ingest
from tests.support import wait_until


@contextlib.asynccontextmanager
async def replicas(settings: Settings, count: int) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(run_service(WORKER, service.main, settings))
             for _ in range(count)]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.timeout(120)
async def test_two_replicas_cover_every_half_second_once(
    settings: Settings, bus: Bus, live_hls: LiveHls
) -> None:
    settings = quick(settings)
    async with running_ingest(settings), replicas(settings, 2):
        await command(bus, "feat", "start", live_hls.url)

        async def enough() -> bool:
            return len(await messages(bus, AUDIO_FEATURES, "feat")) >= 24

        await wait_until(enough, 60, "12 s of audio features")
        await command(bus, "feat", "stop")
    found = await messages(bus, AUDIO_FEATURES, "feat")
    starts = [m.t for m in found]
    assert max(Counter(starts).values()) == 1, "a chunk was measured twice"
    ordered = sorted(starts)
    assert all(b - a == pytest.approx(0.5) for a, b in itertools.pairwise(ordered))
    # The test stream is a 440 Hz tone: the numbers must say so.
    steady = [m for m in found if 1.0 < m.t < max(starts)]  # the last may be cut by the stop
    off = [(m.t, m.f0_mean, round(m.loud_db)) for m in steady
           if m.f0_mean is None or abs(m.f0_mean - 440) >= 10]
    assert not off
    assert all(-40 < m.loud_db < 0 for m in steady)
    # Both replicas read from the one group, and nothing is left unacknowledged.
    consumers = await bus.redis.xinfo_consumers(AUDIO.stream("feat"), "audio_features")
    assert len(consumers) == 2 and all(c["pending"] == 0 for c in consumers)
