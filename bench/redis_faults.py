"""Redis faults, on a real redis-server of our own (a free port, never 6379).

1. Restart. Redis is killed (SIGKILL) and started again on the same port with the same
   append-only file, several times, down 0.5 to 4 s each time. A `Bus.consume` loop runs all
   along, and a "busy" publisher goes on publishing while Redis is down (its outbox keeps
   what it publishes). From the moment the server answers again we time: a message published
   then by a "quiet" publisher (one that sent nothing during the outage) being handled by the
   consumer; the same for one from the busy publisher (it waits behind its outbox's retry);
   every message kept in the outbox meanwhile being handled; the channel list (a channel's
   state, kept by the append-only file) being readable again. The server counts as up when it
   first answers a PING (looked for every 50 ms, so the times may be up to 50 ms short).
2. Pause. Redis is stopped (SIGSTOP) for 15 s while one channel's publishers go on at their
   real rates, each with its own bus, as in the mesh:
   - ingest: 2 audio chunks a second (0.5 s of 16 kHz s16 PCM: 16,000 bytes each), and a
     segment message every 2 s;
   - motion: per 2 s segment, 2 motion seconds and 4 JPEG frames, made by motion's own code
     from a 720p test video;
   - the small signals: audio features, chat, face (2 frames and 1 second a second),
     captions and the fuser's rows.
   We sample each publisher's outbox, then send SIGCONT, and check that every message reached
   its stream, once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from services.motion.vectors import analyse_segment
from shared.bus import Bus, Delivery
from shared.channels import all_states, save_state
from shared.contracts import (
    AudioChunk,
    AudioFeatures,
    Caption,
    ChannelState,
    ChatSecond,
    Contract,
    EventRow,
    FaceFrame,
    FaceSecond,
    Frame,
    Motion,
    Segment,
)
from shared.embedded_redis import EmbeddedRedis
from shared.outbox import MAX_BYTES
from shared.settings import Settings
from shared.streams import (
    AUDIO,
    AUDIO_FEATURES,
    CAPTIONS,
    CHAT,
    EVENTS,
    FACE,
    FACE_FRAMES,
    FRAMES,
    JPEG,
    MOTION,
    PCM,
    SEGMENTS,
    Topic,
)

DOWN_S = (0.5, 1.0, 2.0, 4.0)
"""How long Redis stays dead in each restart."""
FSYNC_S = 1.2
"""The append-only file is written every second: wait this long before each kill."""
PAUSE_S = 15.0
TICK_S = 0.5
"""The publishers' clock: ingest sends an audio chunk every half second."""
CHANNEL, SESSION = "bench", "s1"
PCM_BYTES = 16_000
"""0.5 s of 16 kHz mono s16 audio."""


class Note(Contract):
    n: int


NOTES = Topic("bench-restart", Note, per_channel=False)


async def until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
        await asyncio.sleep(0.005)


async def all_seen(seen: dict[int, float], wanted: set[int], timeout_s: float,
                   what: str) -> None:
    """Wait until the consumer has handled every message numbered in `wanted`."""
    await until(lambda: wanted <= seen.keys(), timeout_s, what)


def kill(server: EmbeddedRedis) -> None:
    """SIGKILL the server (as a crash or the OOM killer would) and wait until it is gone."""
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(5)


# ---- 1. Restart ---------------------------------------------------------------------------------


async def restarts(server: EmbeddedRedis, settings: Settings) -> dict[str, Any]:
    pub = await Bus.connect(server.url, settings)  # publishes all along, through the outage
    quiet = await Bus.connect(server.url, settings)  # publishes only once Redis is back
    sub = await Bus.connect(server.url, settings)
    seen: dict[int, float] = {}
    handled: Counter[int] = Counter()
    stop = asyncio.Event()

    async def handle(delivery: Delivery[Note]) -> None:
        handled[delivery.message.n] += 1
        seen.setdefault(delivery.message.n, time.monotonic())

    consumer = asyncio.create_task(sub.consume({NOTES.stream(): NOTES}, "bench", "c1", handle,
                                               stop))
    await save_state(pub.redis, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                             url="bench", wall=time.time()))
    rows: list[dict[str, float]] = []
    n = 0
    try:
        for down in DOWN_S:
            n += 1
            await pub.publish(NOTES, Note(n=n))
            await all_seen(seen, {n}, 10, "the consumer before the kill")
            await asyncio.sleep(FSYNC_S)
            await asyncio.to_thread(kill, server)
            kept = []
            end = time.monotonic() + down
            while time.monotonic() < end:  # published while Redis is dead: kept, then written
                n += 1
                kept.append(n)
                await pub.publish(NOTES, Note(n=n))
                await asyncio.sleep(0.1)
            await asyncio.to_thread(server.restart)
            up = time.monotonic()
            states = await all_states(pub.redis)
            state_s = time.monotonic() - up
            assert CHANNEL in states, "the channel list did not come back"
            fresh, busy = n + 1, n + 2
            n += 2
            await quiet.publish(NOTES, Note(n=fresh))
            await pub.publish(NOTES, Note(n=busy))
            await all_seen(seen, {fresh, busy, *kept}, 30, "the messages after the restart")
            rows.append({"down": down, "fresh": seen[fresh] - up, "busy": seen[busy] - up,
                         "state": state_s, "kept": len(kept),
                         "kept_done": max(seen[k] for k in kept) - up})
    finally:
        stop.set()
        await asyncio.wait_for(consumer, 20)
        for bus in (pub, quiet, sub):
            await bus.close()
    fresh_s = [r["fresh"] for r in rows]
    busy_s = [r["busy"] for r in rows]
    return {
        "restart: Redis down, s each": " ".join(f"{d:g}" for d in DOWN_S),
        "restart: up -> new msg handled, p50 s": statistics.median(fresh_s),
        "restart: up -> new msg handled, max s": max(fresh_s),
        "restart: up -> new msg handled, each s": " ".join(f"{r:.2f}" for r in fresh_s),
        "restart: same, busy publisher, p50 s": statistics.median(busy_s),
        "restart: same, busy publisher, max s": max(busy_s),
        "restart: same, busy publisher, each s": " ".join(f"{r:.2f}" for r in busy_s),
        "restart: up -> kept messages handled, max s": max(r["kept_done"] for r in rows),
        "restart: messages kept while down": sum(int(r["kept"]) for r in rows),
        "restart: up -> channel state read, max ms": 1000 * max(r["state"] for r in rows),
        "restart: messages lost": sum(1 for k in range(1, n + 1) if k not in seen),
        "restart: messages handled twice": sum(1 for c in handled.values() if c > 1),
    }


# ---- 2. Pause -----------------------------------------------------------------------------------


def real_frames(folder: Path) -> list[bytes]:
    """The JPEGs motion's own code takes from a 2 s 720p30 test segment (2 a second)."""
    segment = folder / "seg.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
         "-i", "testsrc2=size=1280x720:rate=30", "-t", "2", "-c:v", "libx264",
         "-preset", "ultrafast", "-g", "60", "-f", "mpegts", str(segment)],
        check=True, timeout=120)
    return [f.jpeg for f in analyse_segment(str(segment), 0.0).frames]


Send = Callable[[Bus, int, float], Awaitable[None]]
"""One publisher's work at one tick: (its bus, the tick number, the stream time)."""


def stamp(t: float, dur: float = 1.0) -> dict[str, Any]:
    return {"channel": CHANNEL, "session": SESSION, "t": t, "dur": dur, "wall": time.time()}


def publishers(jpegs: list[bytes], sent: Counter[str]) -> dict[str, Send]:
    """What each of one channel's publishers sends per tick, as the services do. `sent`
    counts the messages per stream."""
    pcm = bytes(PCM_BYTES)

    async def put(bus: Bus, topic: Topic[Any], items: list[tuple[Contract, Any]]) -> None:
        sent[topic.stream(CHANNEL)] += len(items)
        await bus.publish_many(topic, items, channel=CHANNEL)

    async def ingest(bus: Bus, k: int, t: float) -> None:
        await put(bus, AUDIO, [(AudioChunk(**stamp(t, 0.5), samples=PCM_BYTES // 2),
                                {PCM: pcm})])
        if k % 4 == 3:
            await put(bus, SEGMENTS, [(Segment(
                **stamp(t - 1.5, 2.0), seq=k // 4, size=2_000_000,
                path=f"/data/buffer/{CHANNEL}/{SESSION}/seg_{k // 4:06d}.ts"), None)])

    async def motion(bus: Bus, k: int, t: float) -> None:
        if k % 4 != 3:
            return
        start = t - 1.5
        await put(bus, MOTION, [(Motion(**stamp(start + s), motion_avg=3.2, motion_max=9.1,
                                        scene_cut=False, frames=30), None) for s in (0, 1)])
        await put(bus, FRAMES, [(Frame(**stamp(start + i / 2, 0.0), width=854, height=480),
                                 {JPEG: jpeg}) for i, jpeg in enumerate(jpegs)])

    async def small(bus: Bus, k: int, t: float) -> None:
        await put(bus, FACE_FRAMES, [(FaceFrame(**stamp(t, 0.0)), None)])
        if k % 2:
            return
        sec = t - 6.0
        await put(bus, AUDIO_FEATURES, [(AudioFeatures(
            **stamp(sec), loud_db=-18.2, peak_db=-3.1, f0_mean=182.0, f0_var=410.5,
            voiced_ratio=0.62, centroid=1830.0, onset_mean=0.8, onset_max=2.4,
            clipped_ratio=0.0), None)])
        await put(bus, CHAT, [(ChatSecond(**stamp(sec), messages=7, chatters=6, rate_z=0.4,
                                          baseline=5.5, hype_density=0.2, spike=False,
                                          strength=0.1), None)])
        await put(bus, FACE, [(FaceSecond(**stamp(sec), present=True, dominant="happy",
                                          emotions={"happy": 0.6, "neutral": 0.3}), None)])
        await put(bus, EVENTS, [(EventRow(
            **stamp(sec - 4.0), loud_db=-18.2, pitch_var=410.5, motion_avg=3.2, sentiment=0.3,
            excited_prob=0.41, votes={"audio": True, "motion": False, "face": False}), None)])
        if k % 4 == 0:
            await put(bus, CAPTIONS, [(Caption(**stamp(sec, 2.0), final=True,
                                               text="no way that just happened"), None)])

    return {"ingest": ingest, "motion": motion, "small signals": small}


async def pause(server: EmbeddedRedis, settings: Settings, jpegs: list[bytes]) -> dict[str, Any]:
    sent: Counter[str] = Counter()
    sends = publishers(jpegs, sent)
    buses = {name: await Bus.connect(server.url, settings) for name in sends}
    pid = server.process.pid if server.process else 0
    t0 = time.monotonic()
    warm, resume_at = 2.0, 2.0 + PAUSE_S
    peaks: dict[str, int] = dict.fromkeys(sends, 0)
    stopped = asyncio.Event()

    async def run(name: str) -> None:
        for k in range(int(resume_at / TICK_S)):  # stop publishing when Redis goes on
            await asyncio.sleep(max(0.0, t0 + k * TICK_S - time.monotonic()))
            await sends[name](buses[name], k, 100.0 + k * TICK_S)

    async def sample() -> None:
        while not stopped.is_set():
            for name, bus in buses.items():
                peaks[name] = max(peaks[name], bus.outbox.bytes)
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    tasks = [asyncio.create_task(run(name)) for name in sends]
    await asyncio.sleep(warm)
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(PAUSE_S)
        held = {name: bus.outbox.bytes for name, bus in buses.items()}
        waiting = sum(bus.outbox.waiting for bus in buses.values())
    finally:
        os.kill(pid, signal.SIGCONT)
    cont = time.monotonic()
    await asyncio.gather(*tasks)
    await until(lambda: all(b.outbox.waiting == 0 for b in buses.values()), 30, "the outboxes")
    drain_s = time.monotonic() - cont
    stopped.set()
    await sampler
    written = {stream: await buses["ingest"].redis.xlen(stream) for stream in sent}
    for bus in buses.values():
        await bus.close()
    rate = sum(held.values()) / PAUSE_S
    fullest = max(held.values()) / PAUSE_S
    out: dict[str, Any] = {
        "pause: frame JPEG, mean bytes": statistics.fmean(len(j) for j in jpegs),
    }
    for name in sends:
        out[f"pause: {name} outbox peak, KB"] = peaks[name] / 1000
    out.update({
        "pause: one channel, all outboxes peak, KB": sum(peaks.values()) / 1000,
        "pause: held at SIGCONT, messages": waiting,
        "pause: held per second of pause, KB/s": rate / 1000,
        "pause: fullest outbox reaches its cap after, s": MAX_BYTES / max(fullest, 1.0),
        "pause: SIGCONT -> all written, s": drain_s,
        "pause: messages published": sum(sent.values()),
        "pause: messages in their streams": sum(written.values()),
        "pause: streams with a count off": sum(written[s] != sent[s] for s in sent),
    })
    return out


async def measure(folder: Path) -> dict[str, Any]:
    settings = Settings(redis_url="redis://unused", data_dir=folder / "data")
    jpegs = await asyncio.to_thread(real_frames, folder)
    with EmbeddedRedis(folder / "redis-restart") as server:
        found = await restarts(server, settings.model_copy(update={"redis_url": server.url}))
    with EmbeddedRedis(folder / "redis-pause") as server:
        found.update(await pause(server, settings.model_copy(update={"redis_url": server.url}),
                                 jpegs))
    return found


def run() -> dict[str, Any]:
    logging.getLogger("clip_live").setLevel(logging.ERROR)  # the outage warnings are expected
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure(Path(tmp)))


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<48} {value:,.3f}" if isinstance(value, float) else f"{key:<48} {value}")
