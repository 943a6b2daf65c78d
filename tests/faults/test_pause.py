"""Redis paused (SIGSTOP) for 15 s: publishers lose nothing and write nothing twice, and a
consumer of a group rides it out. Real redis-server, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.bus import Bus, Delivery
from tests.faults.support import PAUSE_S, own_redis, pid_of, quick_settings
from tests.shared.workers import NOTES, Note
from tests.support import wait_until

EVERY_S = 0.1


@pytest.mark.timeout(120)
async def test_a_15_s_pause_loses_nothing_and_writes_nothing_twice(tmp_path: Path) -> None:
    with own_redis(tmp_path / "redis") as server:
        settings = quick_settings(server, tmp_path / "data")
        publisher = await Bus.connect(server.url, settings)
        reader = await Bus.connect(server.url, settings)
        seen: list[int] = []
        stop = asyncio.Event()

        async def handle(delivery: Delivery[Note]) -> None:
            seen.append(delivery.message.n)

        consumer = asyncio.create_task(
            reader.consume({NOTES.stream(): NOTES}, "g", "c1", handle, stop))
        sent, slowest = 0, 0.0
        paused_at = resumed_at = 0.0
        start = time.monotonic()
        try:
            while True:
                now = time.monotonic() - start
                if not paused_at and now >= 1.0:
                    os.kill(pid_of(server), signal.SIGSTOP)
                    paused_at = now
                if paused_at and not resumed_at and now >= paused_at + PAUSE_S:
                    os.kill(pid_of(server), signal.SIGCONT)
                    resumed_at = now
                if resumed_at and now >= resumed_at + 2.0:
                    break
                began = time.monotonic()
                await publisher.publish(NOTES, Note(n=sent))
                slowest = max(slowest, time.monotonic() - began)
                sent += 1
                assert not consumer.done(), "the consumer stopped while Redis was paused"
                await asyncio.sleep(EVERY_S)
            peak = publisher.outbox.peak_bytes
            await wait_until(lambda: publisher.outbox.waiting == 0, 20, "the outbox to empty")

            client: Redis = Redis.from_url(server.url)
            try:
                entries = await client.xrange(NOTES.stream())
            finally:
                await client.aclose()
            numbers = [int(Note.model_validate_json(f[b"data"]).n) for _, f in entries]
            assert numbers == list(range(sent)), "messages lost, doubled or out of order"
            assert sent >= (PAUSE_S + 3.0) / EVERY_S * 0.8
            # Publishing never stalled for the length of the pause: it waited for Redis at
            # most about the outbox's patience.
            assert slowest < 2.0, slowest
            print(f"\n{sent} messages, outbox peak {peak} bytes, slowest publish {slowest:.2f} s")

            await wait_until(lambda: set(seen) == set(range(sent)), 30,
                             "the consumer to handle every message")
            assert not consumer.done()
        finally:
            stop.set()
            await asyncio.wait_for(consumer, 20)
            await publisher.close()
            await reader.close()
    # The group hands every message out at least once (twice only if an acknowledgement was
    # cut off by the pause).
    assert set(seen) == set(range(sent))
