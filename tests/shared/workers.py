"""Small worker programs the bus and lease tests start as real processes (and kill).

    python -m tests.shared.workers slow-consumer REDIS_URL GROUP NAME DELAY_S
    python -m tests.shared.workers channel-owner REDIS_URL SERVICE INSTANCE CHANNEL
    python -m tests.shared.workers dying-reader   (a service; CLIP_LIVE_REDIS_URL says where)
"""

from __future__ import annotations

import asyncio
import sys

from shared.bus import Bus, Delivery
from shared.contracts import Contract
from shared.leases import ChannelLeases, own_channels
from shared.runtime import ServiceContext, main_entry
from shared.settings import Settings
from shared.streams import Topic


class Note(Contract):
    """The test message: a number."""

    n: int


NOTES = Topic("notes", Note, per_channel=False)
SOUNDS = Topic("sounds", Note, per_channel=False, parts=("pcm",))
"""Notes that carry a binary part."""
HANDLED_KEY = "test:handled"


async def slow_consumer(url: str, group: str, name: str, delay_s: float) -> None:
    """Handle notes slowly, recording each one handled; runs until killed."""
    settings = Settings(redis_url=url, read_batch=20, claim_idle_ms=300, read_block_ms=100)
    bus = await Bus.connect(url, settings)

    async def handle(delivery: Delivery[Note]) -> None:
        await asyncio.sleep(delay_s)
        await bus.redis.rpush(HANDLED_KEY, f"{name}:{delivery.message.n}")

    await bus.consume({NOTES.stream(): NOTES}, group, name, handle, asyncio.Event())


async def channel_owner(url: str, service: str, instance: str, channel: str) -> None:
    """Own `channel` when we can, and say so in Redis every 0.1 s while we run it."""
    settings = Settings(redis_url=url)
    bus = await Bus.connect(url, settings)
    leases = ChannelLeases(bus.redis, service, instance, ttl_s=1.0)

    async def wanted() -> list[str]:
        return [channel]

    async def run(ch: str) -> None:
        while True:
            await bus.redis.set(f"test:running:{ch}", instance, px=300)
            await asyncio.sleep(0.1)

    await own_channels(leases, wanted, run, asyncio.Event())


async def dying_reader(ctx: ServiceContext) -> None:
    """A service whose reader task fails soon while its main work would run on."""
    async def reader() -> None:
        await asyncio.sleep(0.5)
        raise RuntimeError("the reader broke")

    ctx.spawn(reader(), name="reader")
    await ctx.stop.wait()


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "slow-consumer":
        asyncio.run(slow_consumer(args[0], args[1], args[2], float(args[3])))
    elif kind == "channel-owner":
        asyncio.run(channel_owner(*args))
    elif kind == "dying-reader":
        main_entry("dying-reader", dying_reader)
    else:
        raise SystemExit(f"unknown worker {kind}")
