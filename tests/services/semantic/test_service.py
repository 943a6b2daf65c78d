"""The semantic worker end to end: real Redis, real model, the service run in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from services.semantic import service
from services.semantic.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import Caption, ChannelState, Semantic
from shared.runtime import ServiceContext, run_service
from shared.settings import Settings
from shared.streams import CAPTIONS, SEMANTIC
from tests.support import wait_until

pytestmark = pytest.mark.timeout(120)


@contextlib.asynccontextmanager
async def running(settings: Settings, replicas: int = 1) -> AsyncIterator[None]:
    """Run `replicas` semantic workers in this process; stop them gently at the end."""
    stops: list[asyncio.Event] = []

    async def main(ctx: ServiceContext) -> None:
        stops.append(ctx.stop)
        await service.main(ctx)

    tasks = [asyncio.create_task(run_service(WORKER, main, settings))
             for _ in range(replicas)]
    try:
        yield
    finally:
        for stop in stops:
            stop.set()
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [0] * replicas


async def register(bus: Bus, channel: str) -> None:
    await save_state(bus.redis, ChannelState(channel=channel, session="s1", state="live",
                                             url=f"https://twitch.tv/{channel}", wall=1.0))


def caption(channel: str, t: float, text: str, final: bool = True) -> Caption:
    return Caption(channel=channel, session="s1", t=t, dur=1.5, wall=1000.0 + t, text=text,
                   final=final)


async def results(bus: Bus, channel: str) -> list[Semantic]:
    return [d.message for d in await bus.read(SEMANTIC, channel=channel, count=10_000)]


async def all_handled(bus: Bus, channel: str, last_id: str) -> bool:
    """True once the group has been handed every caption and acknowledged them all."""
    groups: Any = await bus.redis.xinfo_groups(CAPTIONS.stream(channel))
    mine = [g for g in groups if g["name"] in (b"semantic", "semantic")]
    if not mine:
        return False
    last = mine[0]["last-delivered-id"]
    last = last.decode() if isinstance(last, bytes) else last
    return last == last_id and mine[0]["pending"] == 0


async def _count(reply: Awaitable[Any], want: int) -> bool:
    return len(await reply) == want


async def test_final_captions_become_semantic_messages_and_interim_ones_do_not(
    bus: Bus, settings: Settings
) -> None:
    await register(bus, "alpha")
    sent = [caption("alpha", 1.0, "let me check the settings menu", final=False),
            caption("alpha", 2.0, "let me check the settings menu"),
            caption("alpha", 4.0, "oh my god that was an insane clutch", final=False),
            caption("alpha", 4.5, "oh my god that was an insane clutch"),
            caption("alpha", 7.0, "")]
    ids = [await bus.publish(CAPTIONS, c, channel="alpha") for c in sent]
    async with running(settings):
        await wait_until(lambda: all_handled(bus, "alpha", ids[-1]))
    got = await results(bus, "alpha")
    assert [m.t for m in got] == [2.0, 4.5, 7.0]
    calm, hyped, empty = got
    for message, source in zip(got, [sent[1], sent[3], sent[4]], strict=True):
        assert (message.session, message.dur, message.wall, message.text) == (
            source.session, source.dur, source.wall, source.text)
    assert len(hyped.hype_words) >= 2 and hyped.sentiment > 0
    assert hyped.excited_margin > calm.excited_margin
    assert (empty.sentiment, empty.hype_words, empty.excited_sim) == (0, [], 0)


async def test_two_replicas_score_each_caption_once(bus: Bus, settings: Settings) -> None:
    # Long claim time: this test is about sharing, not about taking over a slow peer's work.
    settings = settings.model_copy(update={"claim_idle_ms": 60_000, "read_batch": 2})
    phrases = ["no way", "let's go", "okay next round", "what a shot", "brb", "insane clutch"]
    last: dict[str, str] = {}
    for channel in ("alpha", "beta"):
        await register(bus, channel)
        for i in range(30):
            last[channel] = await bus.publish(
                CAPTIONS, caption(channel, float(i), f"{phrases[i % 6]} {i}"), channel=channel)
    async with running(settings, replicas=2):
        for channel in last:
            await wait_until(lambda ch=channel: all_handled(bus, ch, last[ch]))
        # Both replicas joined the group (the bus decides who gets which caption).
        stream = CAPTIONS.stream("alpha")
        await wait_until(
            lambda: _count(bus.redis.xinfo_consumers(stream, "semantic"), want=2))
    for channel in last:
        got = await results(bus, channel)
        assert sorted(m.t for m in got) == [float(i) for i in range(30)]
        assert all(m.channel == channel for m in got)
