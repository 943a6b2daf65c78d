"""The asr worker: a channel's audio in, its captions out.

Stateful (a rolling buffer per channel): each channel is owned by one replica through a lease, and
read with the consumer group "asr". The model is loaded once per process; passes run in a pool
of `asr_parallel` threads (each with a copy of the model of its own), so several channels are
heard side by side, one per core, and the bus keeps being read meanwhile. A channel's passes run
one after another. Audio that piles up while a pass runs is handed over in one piece the next
time. Latency stays
bounded: chunks more than `asr_max_lag_s` behind the newest audio on the bus are left out, the
recogniser drops what is still too far behind, and we log what was skipped.

Audio is acknowledged as it arrives, so a worker that dies takes its rolling buffer with it. A
new owner rebuilds it from the streams first: the audio its group was handed after the channel's
last final caption is heard again, chunk by chunk, and closed as a final caption (at most
`CATCH_UP_MAX_S`), so the phrase that was being spoken is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

from redis.typing import EncodableT, FieldT

from services.asr.backends import Engine, load_engine
from services.asr.chunks import audio_runs, caption, pcm_to_float
from services.asr.streaming import Update
from shared.bus import Delivery
from shared.cancelling import cancel_and_wait
from shared.channels import channel_settings
from shared.contracts import AudioChunk, Caption
from shared.redis_client import REDIS_DOWN
from shared.runtime import ServiceContext
from shared.streams import AUDIO, CAPTIONS, PCM, asr_stats_key

IDLE_FLUSH_S = 1.5  # no audio for this long: close the phrase (the stream paused or ended)
STATS_TTL_S = 3600  # the ASR numbers of a channel last this long after its last batch
CATCH_UP_MAX_S = 30.0  # the most audio a new owner hears again from the last one's buffer
CAPTIONS_LOOK_BACK = 50  # captions read back to find the last final one
VOD_INBOX_S = 2.0  # VOD mode: the most audio held here, waiting for a pass
BEHIND_S = 3.0  # the newest audio heard this late (wall seconds): captions have fallen behind

T = TypeVar("T")


async def main(ctx: ServiceContext) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from packages; never download
    engine = await asyncio.to_thread(load_engine, ctx.settings)
    ctx.log.info("speech model loaded", extra={"engine": engine.name})
    passes = ThreadPoolExecutor(ctx.settings.asr_parallel, thread_name_prefix="asr-pass")

    async def run_channel(channel: str) -> None:
        await ChannelAsr(ctx, engine, passes, channel).run()

    try:
        await ctx.own_channels(run_channel)
    finally:
        passes.shutdown(wait=False, cancel_futures=True)


class ChannelAsr:
    """Reads one channel's audio and publishes its captions."""

    def __init__(
        self, ctx: ServiceContext, engine: Engine, passes: Executor, channel: str
    ) -> None:
        self.ctx, self.engine, self.passes, self.channel = ctx, engine, passes, channel
        self.settings = ctx.settings
        self.recognizer = engine.new_stream(self.settings)
        self.session: str | None = None
        self.inbox: list[tuple[AudioChunk, bytes]] = []
        self.arrived = asyncio.Event()
        self.clock = (0.0, 0.0)  # (stream t, wall) of the newest chunk: maps t to wall time
        self.dropped_s = 0.0  # what the recogniser said it dropped, at the last look
        self.skipped_s = 0.0  # chunks left out before they reached the recogniser
        self.behind = False  # captions are late now (logged once each time it starts)

    async def run(self) -> None:
        self.settings = await channel_settings(self.ctx.bus.redis, self.ctx.settings,
                                               self.channel)
        self.recognizer = self.engine.new_stream(self.settings)
        await self.catch_up()
        # Tied to the service: if the reader fails, the service exits and is started again,
        # rather than waiting for audio that never comes.
        reader = self.ctx.spawn(self.ctx.consume_channel(self.channel, self.on_chunk),
                                name=f"asr-reader:{self.channel}")
        try:
            await self.work()
        finally:
            await cancel_and_wait(reader)

    async def catch_up(self) -> None:
        """Hear again what the channel's last owner held in its buffer: the audio our group
        was handed after the last final caption, in the same session."""
        bus = self.ctx.bus
        handed = await bus.group_position(AUDIO.stream(self.channel), self.ctx.worker.group)
        if handed is None:
            return
        back = await bus.read_back(CAPTIONS, channel=self.channel, count=CAPTIONS_LOOK_BACK)
        final = next((d.message for d in back if d.message.final), None)
        session = ""

        def unheard(chunk: AudioChunk) -> bool:
            nonlocal session
            session = session or chunk.session
            return chunk.session == session and not _heard(final, chunk)

        found = await bus.read_back(AUDIO, channel=self.channel, before=handed,
                                    count=round(CATCH_UP_MAX_S / 0.5), keep=unheard)
        if not found:
            return
        batch = [(d.message, d.blobs[PCM]) for d in reversed(found)]
        chunk = batch[-1][0]
        self.clock = (chunk.t, chunk.wall)
        self.session = chunk.session
        await self.publish(await self.compute(functools.partial(self.hear_again, batch)))
        self.ctx.log.info("heard again %.1f s of audio the last owner had not finished",
                          sum(c.dur for c, _ in batch), extra={"channel": self.channel})

    def hear_again(self, batch: list[tuple[AudioChunk, bytes]]) -> list[tuple[str, Update]]:
        """Feed old audio one chunk at a time (so none of it counts as too far behind), then
        close the phrase (in a thread)."""
        out: list[tuple[str, Update]] = []
        for chunk, pcm in batch:
            audio = pcm_to_float(pcm, chunk.sample_rate)
            out += [(chunk.session, u) for u in self.recognizer.accept(chunk.t, audio)]
        return out + self.flush()

    async def on_chunk(self, delivery: Delivery[AudioChunk]) -> None:
        self.inbox.append((delivery.message, delivery.blobs[PCM]))
        self.arrived.set()
        if self.settings.asr_vod:
            # A VOD: take no more while a backlog waits, so the audio piles up on the bus,
            # where ingest sees it and waits (back-pressure), and not here.
            while sum(c.dur for c, _ in self.inbox) > VOD_INBOX_S:
                await asyncio.sleep(0.02)

    async def work(self) -> None:
        """Hear each batch of audio as it comes; between batches, run a pass the recogniser
        held back once it is due, and close the phrase when no audio came for a while."""
        flushed = True
        idle_at = time.monotonic() + IDLE_FLUSH_S
        while True:
            if not self.arrived.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.wait_s(idle_at)):
                        await self.arrived.wait()
            if not self.arrived.is_set():
                if self.held_due_in() == 0.0:
                    await self.publish(await self.compute(self.poll))
                elif time.monotonic() >= idle_at:
                    if not flushed and self.recognizer.pending:
                        await self.publish(await self.compute(self.flush))
                    flushed = True
                    idle_at = time.monotonic() + IDLE_FLUSH_S
                continue
            self.arrived.clear()
            batch = await self.fresh(self.inbox)
            self.inbox = []
            flushed = False
            heard = None
            if batch:
                heard = chunk = batch[-1][0]
                self.clock = (chunk.t, chunk.wall)
                await self.publish(await self.compute(functools.partial(self.feed, batch)))
            await self.note_stats(heard, self.note_drops())
            idle_at = time.monotonic() + IDLE_FLUSH_S

    def held_due_in(self) -> float | None:
        """Seconds until the recogniser's held-back pass is due (None: none waits, or a VOD,
        where the next batch is never far off and no one waits for interim words)."""
        return None if self.settings.asr_vod else self.recognizer.due_in()

    def wait_s(self, idle_at: float) -> float:
        """How long to wait for audio: until the held pass is due or the idle flush."""
        wait = idle_at - time.monotonic()
        due = self.held_due_in()
        return max(0.0, wait if due is None else min(wait, due))

    async def fresh(
        self, batch: list[tuple[AudioChunk, bytes]]
    ) -> list[tuple[AudioChunk, bytes]]:
        """Leave out chunks far behind the newest audio on the bus (a backlog after a stall or
        a restart), so we never spend time on audio that is too late to matter."""
        if self.settings.asr_vod:  # A VOD: every second counts, however late.
            return batch
        newest = await self.ctx.bus.latest(AUDIO, channel=self.channel)
        if newest is None or not batch:
            return batch
        live = newest.message
        horizon = live.t + live.dur - self.settings.asr_max_lag_s
        kept = [(c, p) for c, p in batch if c.session == live.session and c.t + c.dur > horizon]
        self.skipped_s += sum(c.dur for c, _ in batch) - sum(c.dur for c, _ in kept)
        return kept

    async def compute(self, work: Callable[[], T]) -> T:
        """Run recogniser work on one of the pass threads (this channel's work one piece at a
        time: the channel waits for each)."""
        return await asyncio.get_running_loop().run_in_executor(self.passes, work)

    def feed(self, batch: list[tuple[AudioChunk, bytes]]) -> list[tuple[str, Update]]:
        """Give the recogniser new audio (in a thread). A new session gets a fresh recogniser."""
        out: list[tuple[str, Update]] = []
        for run in audio_runs(batch):
            if run.session != self.session:
                out += self.flush()
                self.recognizer = self.engine.new_stream(self.settings)
                self.dropped_s = 0.0
                self.session = run.session
            out += [(run.session, u) for u in self.recognizer.accept(run.t, run.audio)]
        return out

    def flush(self) -> list[tuple[str, Update]]:
        if self.session is None:
            return []
        return [(self.session, u) for u in self.recognizer.flush()]

    def poll(self) -> list[tuple[str, Update]]:
        """Run the recogniser's held-back pass if it is due (in a thread)."""
        if self.session is None:
            return []
        return [(self.session, u) for u in self.recognizer.poll()]

    async def publish(self, updates: list[tuple[str, Update]]) -> None:
        t_now, wall_now = self.clock
        messages = [
            (caption(u, self.channel, session, wall_now + u.words[0].start - t_now), None)
            for session, u in updates if u.words
        ]
        if messages:
            await self.ctx.bus.publish_many(CAPTIONS, messages, channel=self.channel)

    def note_drops(self) -> float:
        """Log audio skipped because we fell behind; return how much (seconds)."""
        skipped = self.skipped_s + max(0.0, self.recognizer.dropped_s - self.dropped_s)
        self.dropped_s, self.skipped_s = self.recognizer.dropped_s, 0.0
        if skipped > 0.01:
            self.ctx.log.warning(
                "fell behind: skipped %.1f s of audio to stay within %.1f s of live",
                skipped, self.settings.asr_max_lag_s, extra={"channel": self.channel},
            )
        return skipped

    def note_behind(self, lag: float) -> None:
        """Log each time captions fall behind (the newest audio heard `BEHIND_S` late or more)
        and when they are back in time: a busy machine shows in the log, not only in the
        metrics."""
        if lag >= BEHIND_S and not self.behind:
            self.behind = True
            self.ctx.log.warning("captions fell behind: the newest audio was heard %.1f s late",
                                 lag, extra={"channel": self.channel})
        elif lag < BEHIND_S / 2 and self.behind:
            self.behind = False
            self.ctx.log.info("captions are back in time (%.1f s late)", lag,
                              extra={"channel": self.channel})

    async def note_stats(self, heard: AudioChunk | None, skipped: float) -> None:
        """Note for `/metrics`, in one small write per batch: how old the newest audio we just
        heard is (its end to now, so it counts the pass too) and the audio skipped in all (a
        running total in Redis, so it goes on across owners). A lost write only leaves the
        numbers a little old, so Redis being down does not stop the captions."""
        key, now = asr_stats_key(self.channel), time.time()
        fields: dict[FieldT, EncodableT] = {"wall": round(now, 3)}
        if heard is not None:
            lag = max(0.0, now - heard.wall - heard.dur)
            fields["lag_s"] = round(lag, 3)
            self.note_behind(lag)
        with contextlib.suppress(*REDIS_DOWN):
            async with self.ctx.bus.redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=fields)
                pipe.hincrbyfloat(key, "dropped_s", round(skipped, 3))
                pipe.expire(key, STATS_TTL_S)  # a channel nobody hears any more fades away
                await pipe.execute()


def _heard(final: Caption | None, chunk: AudioChunk) -> bool:
    """True when a final caption of the chunk's session already covers all of the chunk."""
    return (final is not None and final.session == chunk.session
            and chunk.t + chunk.dur <= final.t + final.dur)
