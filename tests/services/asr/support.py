"""Helpers for running the asr service in-process on a real bus (tests and bench)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from services.asr.streaming import norm
from services.asr.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import Caption, ChannelState, Word
from shared.runtime import ServiceContext, run_service
from shared.settings import Settings
from shared.streams import AUDIO, CAPTIONS, lease_key
from tests.support import wait_until


@contextlib.asynccontextmanager
async def running_asr(settings: Settings, redis: Redis, channel: str) -> AsyncIterator[None]:
    """Register a live channel, run the asr service in this process until it owns the channel
    and reads its audio, and stop it gently at the end."""
    from services.asr import service

    stops: list[asyncio.Event] = []

    async def main(ctx: ServiceContext) -> None:
        stops.append(ctx.stop)
        await service.main(ctx)

    await save_state(redis, ChannelState(channel=channel, session="s1", state="live",
                                         url="test://asr", wall=time.time()))
    task = asyncio.create_task(run_service(WORKER, main, settings))
    try:
        await wait_until(lambda: reading(redis, channel), 60)
        yield
        assert not task.done(), "the service stopped by itself"
    finally:
        for stop in stops:
            stop.set()
        assert await asyncio.wait_for(task, 30) == 0


async def reading(redis: Redis, channel: str) -> bool:
    if not await redis.get(lease_key("asr", channel)):
        return False
    with contextlib.suppress(Exception):
        groups = await redis.xinfo_groups(AUDIO.stream(channel))
        return any(g["name"] in (b"asr", "asr") for g in groups)
    return False


async def captions(bus: Bus, channel: str) -> list[tuple[float, Caption]]:
    """Every caption of the channel with the wall time Redis stored it (from its stream id)."""
    found = await bus.read(CAPTIONS, channel=channel, count=10_000)
    return [(int(d.id.split("-")[0]) / 1000, d.message) for d in found]


def first_shown(found: list[tuple[float, Caption]]) -> list[tuple[Word, float]]:
    """Each word once (the same text near the same time is the same word), with the wall time
    of the first caption that showed it."""
    seen: list[tuple[str, float]] = []  # (word, start) already seen
    shown: list[tuple[Word, float]] = []
    for published, message in found:
        for word in message.words:
            key = norm(word.text)
            if any(k == key and abs(s - word.start) < 0.6 for k, s in seen):
                continue
            seen.append((key, word.start))
            shown.append((word, published))
    return shown


def first_seen(found: list[tuple[float, Caption]], wall0: float) -> list[tuple[str, float]]:
    """For each word: how long after it was spoken (its end, on the stream clock mapped to wall
    time through the chunks) it first appeared in any caption."""
    return [(word.text, published - (wall0 + word.end)) for word, published in first_shown(found)]
