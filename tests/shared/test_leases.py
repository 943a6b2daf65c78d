"""Channel leases: one owner at a time, and a quick take-over when the owner dies."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis

from shared import leases as leases_module
from shared.leases import ChannelLeases, FairShare, own_channels
from tests.support import PYTHON, child_env, wait_until


async def test_only_one_instance_holds_a_lease(redis_client: Redis) -> None:
    a = ChannelLeases(redis_client, "fuser", "a", ttl_s=1.0)
    b = ChannelLeases(redis_client, "fuser", "b", ttl_s=1.0)
    assert await a.acquire("ch1")
    assert not await b.acquire("ch1")
    assert not await b.renew("ch1")
    await b.release("ch1")  # not b's to free: a keeps it
    assert await a.owner("ch1") == "a"
    await a.release("ch1")
    assert await b.acquire("ch1")


async def _owner_of(client: Redis, channel: str) -> str | None:
    value = await client.get(f"test:running:{channel}")
    return value.decode() if value else None


async def test_a_replica_takes_over_when_the_owner_is_killed(
    redis_url: str, redis_client: Redis
) -> None:
    procs = {
        name: subprocess.Popen([PYTHON, "-m", "tests.shared.workers", "channel-owner", redis_url,
                                "fuser", name, "ch1"], env=child_env())
        for name in ("one", "two")
    }
    try:
        deadline = time.monotonic() + 15
        while await _owner_of(redis_client, "ch1") is None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        first = await ChannelLeases(redis_client, "fuser", "?", 1.0).owner("ch1")
        assert first in procs
        # For a while, only the lease owner runs the channel.
        for _ in range(20):
            assert await _owner_of(redis_client, "ch1") in (first, None)
            await asyncio.sleep(0.05)

        procs[first].send_signal(signal.SIGKILL)
        procs[first].wait(5)
        killed_at = time.monotonic()
        other = "two" if first == "one" else "one"
        while await _owner_of(redis_client, "ch1") != other:
            assert time.monotonic() - killed_at < 3.0, "no take-over within TTL + a tend period"
            await asyncio.sleep(0.05)
        took = time.monotonic() - killed_at
        assert took <= 1.0 + 1.0 / 3 + 0.5, took
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()


async def test_stopping_ends_every_channel_at_once_and_gives_the_leases_back(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(leases_module, "RECANCEL_S", 0.3)
    leases = ChannelLeases(redis_client, "face", "me", ttl_s=3.0)
    stop = asyncio.Event()
    began_ending: dict[str, float] = {}
    ended: dict[str, float] = {}
    cancels: dict[str, int] = {}

    async def run_channel(channel: str) -> None:
        """A channel that needs a moment to hand over its work when cancelled. The one called
        "deaf" acts as if its first cancel got lost and goes on working."""
        cancels[channel] = 0
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels[channel] += 1
                if channel == "deaf" and cancels[channel] == 1:
                    continue
                began_ending[channel] = time.monotonic()
                await asyncio.shield(asyncio.sleep(0.2))
                ended[channel] = time.monotonic()
                raise

    async def wanted() -> list[str]:
        return ["a", "b", "deaf"]

    owner = asyncio.create_task(own_channels(leases, wanted, run_channel, stop))
    await wait_until(lambda: len(cancels) == 3, 5, "all three channels running")
    caplog.set_level(logging.WARNING, logger="clip_live.leases")
    stop.set()
    await asyncio.wait_for(owner, 5)
    assert set(ended) == {"a", "b", "deaf"}
    # At once: "b" began to end before "a" had finished ending.
    assert began_ending["b"] < ended["a"] and began_ending["a"] < ended["b"]
    # The lost cancel was sent again, and said so.
    assert cancels == {"a": 1, "b": 1, "deaf": 2}
    assert any("cancelling again" in r.getMessage() and getattr(r, "channel", "") == "deaf"
               for r in caplog.records)
    assert [await leases.owner(c) for c in ("a", "b", "deaf")] == [None, None, None]


def test_a_fair_share_waits_for_others_but_never_leaves_a_channel_unowned() -> None:
    now = [0.0]
    share = FairShare(None, patience_s=3.0, clock=lambda: now[0])
    assert share.may_take("a", owned=5, cap=2) is False  # over our share: leave it to others
    now[0] = 2.9
    assert share.may_take("a", owned=5, cap=2) is False
    now[0] = 3.0  # nobody took it for a whole lease time: take it all the same
    assert share.may_take("a", owned=5, cap=2) is True
    share.taken("a")
    assert share.may_take("a", owned=5, cap=2) is False  # its wait starts again
    assert share.may_take("b", owned=1, cap=2) is True  # within our share: at once


async def test_channels_spread_over_the_live_copies_and_move_when_one_stops(
    redis_client: Redis,
) -> None:
    """Two copies of a worker share six channels three and three; when one stops, the other
    takes its three within a lease time."""
    channels = [f"ch{i}" for i in range(6)]
    alive = {"a", "b"}
    running: dict[str, set[str]] = {"a": set(), "b": set()}

    def runner(name: str) -> Callable[[str], Coroutine[Any, Any, None]]:
        async def run_channel(channel: str) -> None:
            running[name].add(channel)
            try:
                await asyncio.sleep(3600)
            finally:
                running[name].discard(channel)
        return run_channel

    async def wanted() -> list[str]:
        return channels

    async def owners() -> int:
        return len(alive)

    stops = {name: asyncio.Event() for name in alive}
    tasks = {name: asyncio.create_task(own_channels(
        ChannelLeases(redis_client, "fuser", name, ttl_s=1.0), wanted, runner(name),
        stops[name], owners=owners)) for name in sorted(alive)}
    try:
        await wait_until(lambda: len(running["a"]) + len(running["b"]) == 6, 10,
                         "all six channels owned")
        assert len(running["a"]) == len(running["b"]) == 3
        stops["b"].set()
        alive.discard("b")
        await asyncio.wait_for(tasks["b"], 10)
        await wait_until(lambda: len(running["a"]) == 6, 10, "a owning all six")
    finally:
        for stop in stops.values():
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks.values()), 15)
