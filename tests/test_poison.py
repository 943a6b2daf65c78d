"""A poison message in each input stream of each worker lands in the dead-letter stream with
a reason, and the worker goes on. Every worker reads through its declaration: group workers
and channel owners through the runtime's consumers, the fuser by position."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from services.fuser.service import main as fuser_main
from services.wiring import WORKERS, worker_named
from shared.bus import Bus, Delivery
from shared.channels import save_state
from shared.contracts import ChannelState
from shared.runtime import ServiceContext, run_service
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, Topic
from tests.support import wait_until

CHANNEL = "poisoned"
POISON = {"data": b'{"channel": "poisoned", "t": "not a number"'}
NOT_TEXT = {"data": b'\xff\xfe{"channel": \x80}', b"\xc3(": b"\xff"}
"""Bytes that are not UTF-8, in the data and in a field name: once they broke the burying."""
FUZZ_PER_STREAM = 8


def fuzz(seed: int) -> list[dict[bytes, bytes]]:
    """Entries of random bytes: random field names (sometimes `data`), random values."""
    rng = random.Random(seed)
    entries = []
    for _ in range(FUZZ_PER_STREAM):
        fields = {rng.randbytes(rng.randint(1, 8)): rng.randbytes(rng.randint(0, 300))
                  for _ in range(rng.randint(1, 3))}
        if rng.random() < 0.5:
            fields[b"data"] = rng.randbytes(rng.randint(0, 300))
        entries.append(fields)
    return entries


def inputs(channel: str) -> list[tuple[str, str, Topic[Any]]]:
    """(worker, stream, topic) for every stream a worker reads through a group."""
    return [(w.name, t.stream(channel if t.per_channel else None), t)
            for w in WORKERS for t in w.reads]


@pytest.mark.timeout(120)
async def test_a_poison_message_in_every_group_input_is_buried_and_work_goes_on(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    await save_state(redis_client, ChannelState(channel=CHANNEL, session="s1", state="live",
                                                url="x", wall=time.time()))
    handled: list[str] = []

    def reader(name: str) -> Any:
        async def main(ctx: ServiceContext) -> None:
            async def handle(delivery: Delivery[Any]) -> None:
                handled.append(delivery.stream)

            readers = []
            if ctx.worker.shape == "group" or ctx.worker.global_reads:
                readers.append(ctx.consume(handle))
            if ctx.worker.shape == "channels" and ctx.worker.channel_reads:
                readers.append(ctx.consume_channel(CHANNEL, handle))
            await asyncio.gather(*readers)
        return main

    names = sorted({name for name, _, _ in inputs(CHANNEL)})
    tasks = [asyncio.create_task(run_service(worker_named(n), reader(n), settings))
             for n in names]
    try:
        await asyncio.sleep(1.0)  # groups are made
        streams = sorted({stream for _, stream, _ in inputs(CHANNEL)})
        for n, stream in enumerate(streams):
            for entry in [POISON, NOT_TEXT, *fuzz(n)]:
                await redis_client.xadd(stream, entry)  # type: ignore[arg-type]
        per_stream = 2 + FUZZ_PER_STREAM

        async def all_buried() -> bool:
            return await redis_client.xlen(DEAD_LETTER_STREAM) >= per_stream * len(
                inputs(CHANNEL))

        await wait_until(all_buried, 30, "every poison message in the dead-letter stream")
        assert not any(t.done() for t in tasks), "a worker stopped"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    letters: dict[tuple[str, str], list[str]] = {}
    for letter in await bus.dead_letters(1000):
        key = (letter.message.stream, letter.message.group)
        letters.setdefault(key, []).append(letter.message.data)
        assert "not a valid" in letter.message.error
    for name, stream, _ in inputs(CHANNEL):
        buried = letters.get((stream, worker_named(name).group), [])
        assert len(buried) == per_stream, (name, stream)
        assert any("\\xff\\xfe" in data for data in buried), "the bytes are kept"
    assert not handled  # nothing invalid reached a handler


@pytest.mark.timeout(60)
async def test_a_poison_message_in_the_fusers_streams_is_buried_and_rows_go_on(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    from services.fuser import signals
    from shared.streams import AUDIO_FEATURES, EVENTS
    from tests.services.fuser.scenario import CHANNEL as DEMO
    from tests.services.fuser.scenario import SESSION, stream

    await save_state(redis_client, ChannelState(channel=DEMO, session=SESSION, state="live",
                                                url="x", wall=time.time()))
    fuser = asyncio.create_task(run_service(worker_named("fuser"), fuser_main, settings))
    infinite = {"data": '{"channel": "demo", "session": "s1", "t": Infinity, "dur": 0.5, '
                        '"wall": 1.0, "loud_db": -20, "peak_db": -3, "f0_mean": 0, "f0_var": 0, '
                        '"voiced_ratio": 0, "centroid": 0, "onset_mean": 0, "onset_max": 0, '
                        '"clipped_ratio": 0}'}
    try:
        for topic in signals.topics():
            await redis_client.xadd(topic.stream(DEMO), POISON)
        # Once made every later second fail (an OverflowError in the fuser): now refused.
        await redis_client.xadd(AUDIO_FEATURES.stream(DEMO), infinite)
        for message in stream(seconds=20, moment=None):
            await bus.publish(signals.by_model(type(message)).topic, message, channel=DEMO)

        async def rows() -> bool:
            return await redis_client.xlen(EVENTS.stream(DEMO)) >= 15

        await wait_until(rows, 30, "event rows after the poison")
        assert not fuser.done()
    finally:
        fuser.cancel()
        await asyncio.gather(fuser, return_exceptions=True)
    letters = await bus.dead_letters(100)
    assert {d.message.stream for d in letters} == {t.stream(DEMO) for t in signals.topics()}
    assert any("finite" in d.message.error for d in letters)
