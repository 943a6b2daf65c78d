"""The runtime reads what a worker declares: `ctx.consume`, `ctx.consume_channel` and
`ctx.own_channels`, against a real redis-server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from shared.bus import Bus, Delivery
from shared.channels import save_state
from shared.contracts import AudioChunk, ChannelState, MonitorCommand
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import AUDIO, CAPTIONS, CONTROL, PCM
from shared.workers import Worker
from tests.support import wait_until


def _chunk(channel: str, t: float) -> AudioChunk:
    return AudioChunk(channel=channel, session="s", t=t, dur=0.0001, wall=1.0 + t, samples=1,
                      sample_rate=10_000)


async def _states(bus: Bus, **states: str) -> None:
    for channel, state in states.items():
        await save_state(bus.redis, ChannelState(channel=channel, session="s", state=state,
                                                 url=f"https://www.twitch.tv/{channel}",
                                                 wall=1.0))


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.model_copy(update={"read_block_ms": 100, "lease_ttl_s": 1.0})


async def _running(ctx: ServiceContext, work: Callable[[], Awaitable[None]],
                   done: Callable[[], bool]) -> None:
    task = asyncio.create_task(work())
    try:
        await wait_until(done, 10)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
def context(quick: Settings, bus: Bus) -> Callable[[Worker], ServiceContext]:
    """Makes the context a worker's main function would get."""
    def make(worker: Worker) -> ServiceContext:
        return ServiceContext(worker=worker, settings=quick, bus=bus,
                              log=logging.getLogger("clip_live.test"))

    return make


def test_a_declaration_checks_itself() -> None:
    assert Worker("reader", reads=(AUDIO,)).group == "reader"
    assert Worker("ingest", reads=(CONTROL,), shape="channels", group="ctl").group == "ctl"
    with pytest.raises(ValueError, match="no consumer group"):
        Worker("api", reads=(CONTROL,), shape="server")
    with pytest.raises(ValueError, match="only a channel owner"):
        Worker("motion", reads=(AUDIO,), ended_too=True)
    with pytest.raises(ValueError, match="needs a name"):
        Worker("")
    with pytest.raises(ValueError, match="shape"):
        Worker("x", shape="pool")  # type: ignore[arg-type]


async def test_a_group_worker_reads_its_topics_of_every_known_channel(
    bus: Bus, context: Callable[[Worker], ServiceContext]
) -> None:
    await _states(bus, live="live", gone="ended")
    ctx = context(Worker("listener", reads=(AUDIO, CONTROL), writes=(CAPTIONS,)))
    for channel in ("live", "gone", "unknown"):
        await bus.publish(AUDIO, _chunk(channel, 1.0), channel=channel, blobs={PCM: b"\0\0"})
    await bus.publish(CONTROL, MonitorCommand(channel="live", action="stop", wall=1.0))
    seen: list[str] = []

    async def handle(delivery: Delivery[AudioChunk | MonitorCommand]) -> None:
        seen.append(delivery.stream)

    await _running(ctx, lambda: ctx.consume(handle), lambda: len(seen) == 3)
    # Ended channels too (what they left is still handled); a channel nobody knows, not.
    assert sorted(seen) == sorted([AUDIO.stream("live"), AUDIO.stream("gone"), CONTROL.stream()])
    groups = await bus.redis.xinfo_groups(AUDIO.stream("live"))
    assert [g["name"] for g in groups] == [b"listener"]


async def test_a_channel_owner_reads_through_its_group_only_the_global_topics(
    bus: Bus, context: Callable[[Worker], ServiceContext]
) -> None:
    await _states(bus, live="live")
    ctx = context(Worker("ingest", reads=(CONTROL, AUDIO), shape="channels", group="ctl"))
    await bus.publish(AUDIO, _chunk("live", 1.0), channel="live", blobs={PCM: b"\0\0"})
    await bus.publish(CONTROL, MonitorCommand(channel="live", action="stop", wall=1.0))
    seen: list[str] = []

    async def handle(delivery: Delivery[MonitorCommand]) -> None:
        seen.append(delivery.stream)

    await _running(ctx, lambda: ctx.consume(handle), lambda: len(seen) == 1)
    await asyncio.sleep(0.3)
    assert seen == [CONTROL.stream()]
    assert [g["name"] for g in await bus.redis.xinfo_groups(CONTROL.stream())] == [b"ctl"]
    assert await bus.redis.xinfo_groups(AUDIO.stream("live")) == []  # left to the owner


@pytest.mark.parametrize("ended_too", [False, True])
async def test_a_channel_owner_owns_the_wanted_channels_and_reads_each_one(
    bus: Bus, context: Callable[[Worker], ServiceContext], ended_too: bool
) -> None:
    await _states(bus, live="live", gone="ended", quiet="live")
    ctx = context(Worker("owner", reads=(AUDIO,), shape="channels", ended_too=ended_too))
    for channel in ("live", "gone", "quiet"):
        await bus.publish(AUDIO, _chunk(channel, 2.0), channel=channel, blobs={PCM: b"\1\0"})
    seen: dict[str, list[bytes]] = {}

    async def run_channel(channel: str) -> None:
        async def handle(delivery: Delivery[AudioChunk]) -> None:
            seen.setdefault(channel, []).append(delivery.blobs[PCM])

        await ctx.consume_channel(channel, handle)

    def not_quiet(state: ChannelState) -> bool:
        return state.channel != "quiet"

    wanted = {"live", "gone"} if ended_too else {"live"}
    await _running(ctx, lambda: ctx.own_channels(run_channel, keep=not_quiet),
                   lambda: set(seen) == wanted)
    await asyncio.sleep(0.3)
    assert seen == {channel: [b"\1\0"] for channel in wanted}
    groups = await bus.redis.xinfo_groups(AUDIO.stream("live"))
    assert [g["name"] for g in groups] == [b"owner"]
    assert await ctx.leases().owner("live") is None  # given back on stop
