"""Redis killed (SIGKILL) and started again on the same port with the same folder: the streams,
the channel list and the consumer groups are back (append-only file), consumers go on, and a
consumer whose group vanished (FLUSHALL) makes it again. A channel the list lost is written back
by its owner, and channel owners keep running it meanwhile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.bus import Bus, Delivery
from shared.channels import all_states, channel_choice, is_current, save_if_current, save_state
from shared.contracts import ChannelState
from shared.leases import ChannelLeases, own_channels
from shared.streams import CHANNELS_KEY, CLIP_INDEX_KEY
from tests.faults.support import kill, own_redis, quick_settings
from tests.shared.workers import NOTES, Note
from tests.support import Records, wait_until

FSYNC_S = 1.5
"""The append-only file is written every second: wait this long before a kill."""


def _state(channel: str, session: str = "s1", state: str = "live") -> ChannelState:
    return ChannelState(channel=channel, session=session, state=state,  # type: ignore[arg-type]
                        url=f"https://www.twitch.tv/{channel}", wall=time.time())


@pytest.mark.timeout(120)
async def test_a_killed_redis_comes_back_with_its_data_and_consumers_go_on(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path / "redis") as server:
        settings = quick_settings(server, tmp_path / "data")
        bus = await Bus.connect(server.url, settings)
        reader = await Bus.connect(server.url, settings)
        seen: list[int] = []
        stop = asyncio.Event()

        async def handle(delivery: Delivery[Note]) -> None:
            seen.append(delivery.message.n)

        consumer = asyncio.create_task(
            reader.consume({NOTES.stream(): NOTES}, "g", "c1", handle, stop))
        try:
            await bus.publish_many(NOTES, [(Note(n=i), None) for i in range(10)])
            await save_state(bus.redis, _state("alpha"))
            await bus.redis.zadd(CLIP_INDEX_KEY, {"clip1": 1.0})
            await wait_until(lambda: len(seen) == 10, 10, "the first ten")
            await asyncio.sleep(FSYNC_S)

            kill(server)
            for n in range(10, 15):  # published while Redis is down: kept, then written
                await bus.publish(NOTES, Note(n=n))
            await asyncio.sleep(1.0)
            assert not consumer.done()
            server.restart()

            await wait_until(lambda: bus.outbox.waiting == 0, 15, "the outbox to empty")
            assert await bus.redis.xlen(NOTES.stream()) == 15
            assert set(await all_states(bus.redis)) == {"alpha"}
            assert await bus.redis.zrange(CLIP_INDEX_KEY, 0, -1) == [b"clip1"]
            groups = await bus.redis.xinfo_groups(NOTES.stream())
            assert [g["name"] for g in groups] == [b"g"]
            await wait_until(lambda: len(seen) >= 15, 15, "the consumer to go on")
            assert seen == list(range(15)), "the group went on where it was"

            # Redis loses everything (as a Redis without persistence that restarted would):
            # the group is made again, and what comes next is handled.
            with Records("clip_live.bus") as logged:  # before the flush: a blocked read sees it
                await bus.redis.flushall()
                for n in range(15, 20):
                    await bus.publish(NOTES, Note(n=n))
                await wait_until(lambda: set(range(15, 20)) <= set(seen), 15,
                                 "the consumer to make its group again")
            assert any("making it again" in m for m in logged.messages("WARNING"))
            assert not consumer.done()
            assert [g["name"] for g in await bus.redis.xinfo_groups(NOTES.stream())] == [b"g"]
        finally:
            stop.set()
            await asyncio.wait_for(consumer, 20)
            await bus.close()
            await reader.close()


async def test_a_lost_channel_is_written_back_by_its_session(redis_client: Redis) -> None:
    live = _state("beta", "s1")
    await save_state(redis_client, live)
    await redis_client.delete(CHANNELS_KEY)  # the list lost it
    assert await is_current(redis_client, "beta", "s1")
    assert await save_if_current(redis_client, live)
    assert (await all_states(redis_client))["beta"].session == "s1"
    # A channel that was stopped, or moved on to another session, stays as it is.
    await save_state(redis_client, _state("beta", "s1", "stopped"))
    assert not await is_current(redis_client, "beta", "s1")
    assert not await save_if_current(redis_client, live)


async def test_channel_owners_keep_running_a_channel_the_list_lost(redis_client: Redis) -> None:
    await save_state(redis_client, _state("gamma"))
    await save_state(redis_client, _state("delta", state="stopped"))
    leases = ChannelLeases(redis_client, "owner", "me", ttl_s=0.6)
    started: list[str] = []
    cancelled: list[str] = []
    stop = asyncio.Event()

    async def run_channel(channel: str) -> None:
        started.append(channel)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(channel)
            raise

    owner = asyncio.create_task(own_channels(leases, channel_choice(redis_client), run_channel,
                                             stop))
    try:
        await wait_until(lambda: started == ["gamma"], 5, "gamma to start")
        await redis_client.flushall()  # the list and the lease are gone
        await asyncio.sleep(1.5)  # several tend periods, past the lease's end
        assert cancelled == [] and started == ["gamma"]
        assert await leases.owner("gamma") == "me"  # taken back, nobody else had it
        await save_state(redis_client, _state("gamma", state="stopped"))
        await wait_until(lambda: cancelled == ["gamma"], 5, "a stopped channel to end")
    finally:
        stop.set()
        await asyncio.wait_for(owner, 10)
