"""The face worker end to end: real Redis, real FFmpeg video, the real motion worker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from redis.asyncio import Redis

from services.face.service import main as face_main
from services.motion.service import main as motion_main
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, FaceFrame, FaceSecond, Frame, Segment
from shared.settings import Settings
from shared.streams import FACE, FACE_FRAMES, FRAMES, SEGMENTS
from tests.services.face.media import astronaut, astronaut_video, cut_segments, jpeg
from tests.services.face.running import Records, running, wait_until


def quick(settings: Settings) -> Settings:
    return settings.model_copy(update={"face_idle_close_s": 1.0})


async def register(redis: Redis, channel: str, session: str) -> None:
    await save_state(redis, ChannelState(channel=channel, session=session, state="live",
                                         url="file", wall=time.time()))


async def face_seconds(bus: Bus, channel: str) -> list[FaceSecond]:
    return [d.message for d in await bus.read(FACE, channel=channel, count=1000)]


async def face_frames(bus: Bus, channel: str) -> list[FaceFrame]:
    return [d.message for d in await bus.read(FACE_FRAMES, channel=channel, count=1000)]


async def _frames_done(bus: Bus, channel: str, count: int) -> bool:
    return len(await face_frames(bus, channel)) >= count


@pytest.mark.timeout(120)
async def test_a_stream_of_a_smiling_face_gives_happy_seconds(
        settings: Settings, bus: Bus, redis_client: Redis, tmp_path: Path) -> None:
    segments = cut_segments(astronaut_video(tmp_path, seconds=4.0), tmp_path / "segments")
    assert len(segments) == 2
    await register(redis_client, "astro", "s1")
    async with running(quick(settings), motion=motion_main, face=face_main):
        now = time.time()
        for seq, path in enumerate(segments):
            await bus.publish(SEGMENTS, Segment(
                channel="astro", session="s1", t=2.0 * seq, dur=2.0, wall=now + 2 * seq,
                seq=seq, path=str(path), size=path.stat().st_size), channel="astro")

        async def four_seconds() -> list[FaceSecond]:
            found = await face_seconds(bus, "astro")
            return found if len(found) >= 4 else []

        seconds = await wait_until(four_seconds)
    assert [s.t for s in seconds] == [0.0, 1.0, 2.0, 3.0]
    for second in seconds:
        assert second.session == "s1" and second.dur == 1.0
        assert second.present and second.dominant == "happy"
        assert second.emotions["happy"] > 0.5 and second.excitement > 0.5
    assert seconds[1].wall == pytest.approx(now + 1.0, abs=0.01)
    frames = await face_frames(bus, "astro")
    assert len(frames) >= 8  # about two frames per second
    assert all(len(f.faces) == 1 and f.faces[0].dominant == "happy" for f in frames)
    assert sorted(f.t for f in frames) == [f.t for f in frames]


@pytest.mark.timeout(60)
async def test_bad_frames_are_skipped_with_a_log_line(
        settings: Settings, bus: Bus, redis_client: Redis) -> None:
    await register(redis_client, "bad", "s1")
    noise = np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    frames = [
        (0.0, noise, 640, 480),  # random bytes sent as a JPEG
        (0.5, jpeg(np.zeros((1, 1, 3), np.uint8)), 1, 1),  # a 1x1 picture
        (1.0, b"", 640, 480),  # no picture at all
        (1.5, jpeg(astronaut()), 512, 512),  # and a good one after them
        (2.0, jpeg(np.full((480, 640, 3), 90, np.uint8)), 640, 480),  # a frame with no face
    ]
    with Records("clip_live.face") as logs:
        async with running(quick(settings), face=face_main) as tasks:
            for t, data, width, height in frames:
                await bus.publish(FRAMES, Frame(channel="bad", session="s1", t=t, dur=0.0,
                                                wall=1000 + t, width=width, height=height),
                                  channel="bad", blobs={"jpeg": data})
            seconds = await wait_until(lambda: face_seconds(bus, "bad"))
            # A frame for a second that is already closed is handled but not counted.
            await bus.publish(FRAMES, Frame(channel="bad", session="s1", t=1.2, dur=0.0,
                                            wall=1001.2, width=512, height=512),
                              channel="bad", blobs={"jpeg": jpeg(astronaut())})
            await wait_until(lambda: asyncio.sleep(0, [
                m for m in logs.messages("WARNING") if "after its second was closed" in m]))
            assert not tasks["face"].done()
    warnings = logs.messages("WARNING")
    assert any("skipped a frame: frame too small (1x1)" in m for m in warnings), warnings
    # Bytes that are no JPEG never reach the worker: the bus buries them, with the reason.
    letters = await bus.dead_letters()
    assert len(letters) == 2
    assert all("not a JPEG picture" in d.message.error for d in letters)
    # Only the two frames that are pictures with a face's room were handled.
    handled = await face_frames(bus, "bad")
    assert [(f.t, len(f.faces)) for f in handled] == [(1.5, 1), (2.0, 0), (1.2, 1)]
    # Second 0 had only bad frames: no summary for it. Second 1 had the face, second 2 none.
    assert [(s.t, s.present, s.dominant) for s in await face_seconds(bus, "bad")] == [
        (1.0, True, "happy"), (2.0, False, "")]
    assert seconds[1].emotions == {} and seconds[1].excitement == 0.0


@pytest.mark.timeout(60)
async def test_seconds_still_open_go_out_when_the_worker_stops(
        settings: Settings, bus: Bus, redis_client: Redis) -> None:
    await register(redis_client, "open", "s1")
    # Nothing closes by itself here: a long lateness and a long idle wait.
    patient = settings.model_copy(update={"face_lateness_s": 30.0, "face_idle_close_s": 300.0})
    async with running(patient, face=face_main):
        for t in (0.0, 0.5, 1.0):
            await bus.publish(FRAMES, Frame(channel="open", session="s1", t=t, dur=0.0,
                                            wall=1000 + t, width=512, height=512),
                              channel="open", blobs={"jpeg": jpeg(astronaut())})
        await wait_until(lambda: _frames_done(bus, "open", 3), 30, "three frames looked at")
        assert await face_seconds(bus, "open") == []
    # Stopped: both seconds went out, with the frames they had.
    seconds = await face_seconds(bus, "open")
    assert [(s.t, s.present, s.dominant) for s in seconds] == [(0.0, True, "happy"),
                                                              (1.0, True, "happy")]


@pytest.mark.timeout(120)
async def test_a_killed_face_workers_open_seconds_are_rebuilt_by_the_next_owner(
        settings: Settings, bus: Bus, redis_client: Redis) -> None:
    """The first worker, a real process, handles the frames of three seconds and is killed
    while they are still open; the next owner takes them back from what it published."""
    import signal
    import subprocess

    from tests.support import PYTHON, child_env

    await register(redis_client, "killed", "s1")
    picture = jpeg(astronaut())

    async def send(t: float, batch: tuple[float, float] | None = None) -> None:
        await bus.publish(FRAMES, Frame(
            channel="killed", session="s1", t=t, dur=0.0, wall=1000 + t, width=512, height=512,
            batch_start=batch[0] if batch else None, batch_end=batch[1] if batch else None),
            channel="killed", blobs={"jpeg": picture})

    env = child_env(CLIP_LIVE_REDIS_URL=str(settings.redis_url),
                    CLIP_LIVE_DATA_DIR=str(settings.data_dir), CLIP_LIVE_READ_BLOCK_MS="100",
                    CLIP_LIVE_LEASE_TTL_S="1.0", CLIP_LIVE_FACE_IDLE_CLOSE_S="300")
    first = subprocess.Popen([PYTHON, "-m", "services.face"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for t in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5):  # no segment closes them: they stay open
            await send(t)
        await wait_until(lambda: _frames_done(bus, "killed", 6), 60, "the first owner")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert await face_seconds(bus, "killed") == [], "every second was still open"

    async with running(settings, face=face_main):
        for t in (3.0, 3.5, 4.0, 4.5, 5.0):
            await send(t)
        await send(5.5, batch=(4.0, 6.0))  # a segment done: every second before 6 closes
        seconds = await wait_until(lambda: _six(bus), 30, "six face seconds")
    assert [(s.t, s.present) for s in seconds] == [(float(t), True) for t in range(6)]
    frames = await face_frames(bus, "killed")
    assert sorted(f.t for f in frames) == [t / 2 for t in range(12)], "none analysed twice"


async def _six(bus: Bus) -> list[FaceSecond]:
    found = await face_seconds(bus, "killed")
    return found if len(found) >= 6 else []
