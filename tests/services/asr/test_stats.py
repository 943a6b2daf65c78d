"""The asr worker notes, per channel, how far behind live it hears and the audio it skipped
(`asr_stats_key`), which `/metrics` shows. Real service, real model, real Redis."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from shared.bus import Bus
from shared.settings import Settings
from shared.streams import asr_stats_key
from shared.text import as_text
from tests.services.asr import media
from tests.services.asr.support import running_asr
from tests.support import wait_until


@pytest.mark.timeout(120)
async def test_asr_notes_its_lag_and_the_audio_it_skipped(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    """20 s of speech captured 40 s ago, published at once: asr is far behind, so it skips most
    of it (a running total) and notes the age of the newest audio it heard."""
    channel = "stats-asr"
    settings = settings.model_copy(update={"asr_max_lag_s": 3.0})
    key = asr_stats_key(channel)
    async with running_asr(settings, redis_client, channel):
        await media.publish_audio(bus, channel, "s1", media.long_speech(20.0), live=False,
                                  wall0=time.time() - 40.0)

        async def noted() -> bool:
            return float(await redis_client.hget(key, "dropped_s") or 0) >= 10.0

        await wait_until(noted, 60, "asr to note the audio it skipped")
    stats = {as_text(k): float(v) for k, v in (await redis_client.hgetall(key)).items()}
    print(stats)
    assert stats["dropped_s"] <= 20.0  # never more than was sent
    assert stats["lag_s"] >= 15.0  # the newest audio it heard ended 20 s ago or more
    assert abs(stats["wall"] - time.time()) < 60.0
    assert 0 < await redis_client.ttl(key) <= 3600  # it fades once the channel is gone
