"""Bad input fails the job with a clear reason, and the clipper goes on with the next job."""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.clipper.roots import recordings_root
from shared.bus import Bus
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, SEGMENTS, clip_job_key, pins_key
from tests.services.clipper.media import (
    Recorded,
    ask_clip,
    clips,
    progress_of,
    publish_segments,
    running_clipper,
    segment_message,
    set_state,
    video_frames,
    wait_finished,
)


async def publish_copies(bus: Bus, channel: str, recorded: list[Recorded], folder: Path,
                         wall0: float) -> list[Path]:
    """Copy the first 10 segments to `folder` and publish those copies for `channel`."""
    folder.mkdir(parents=True)
    copies = []
    for rec in recorded[:10]:
        copy = folder / rec.path.name
        shutil.copyfile(rec.path, copy)
        copies.append(copy)
        await bus.publish(SEGMENTS, segment_message(rec, channel, wall0, path=copy),
                          channel=channel)
    return copies


def spoil_audio(path: Path) -> None:
    """Fill the audio packets that start a frame with noise: the file still looks like
    MPEG-TS, but FFmpeg cannot turn its AAC into MP4 ("Error parsing ADTS frame header")."""
    data = bytearray(path.read_bytes())
    noise = random.Random(2)
    pids = Counter(((data[o + 1] & 0x1F) << 8) | data[o + 2] for o in range(0, len(data), 188))
    audio = pids.most_common(2)[1][0]  # video has the most packets, sound the next most
    for offset in range(0, len(data), 188):
        pid = ((data[offset + 1] & 0x1F) << 8) | data[offset + 2]
        if pid == audio and data[offset + 1] & 0x40:  # an audio packet that starts a frame
            for k in range(20, 188):
                data[offset + k] = noise.randrange(256)
    path.write_bytes(bytes(data))


async def test_one_bad_segment_costs_only_itself_and_unknown_channels_fail_clearly(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded],
    capsys: pytest.CaptureFixture[str],
) -> None:
    wall0 = time.time() - 20
    buffer = recordings_root(clip_settings.data_dir)  # the clipper reads segments only here
    cut_off = await publish_copies(bus, "cutoff", recorded, buffer / "cutoff", wall0)
    with cut_off[6].open("r+b") as file:  # a segment cut off in the middle of a packet
        file.truncate(100_000)
    garbage = await publish_copies(bus, "garbage", recorded, buffer / "garbage", wall0)
    garbage[6].write_bytes(b"\0" * recorded[6].size)  # the right size, but not MPEG-TS
    gone = await publish_copies(bus, "gone", recorded, buffer / "gone", wall0)
    gone[6].unlink()  # the ring buffer lost it
    noisy = await publish_copies(bus, "noisy", recorded, buffer / "noisy", wall0)
    spoil_audio(noisy[6])  # looks whole, but its sound cannot be copied
    for channel in ("cutoff", "garbage", "gone", "noisy", "good"):
        await set_state(bus, channel, "live")
    await publish_segments(bus, "good", recorded[:10], wall0)

    left_out = {
        "job-cutoff": ("cutoff", f"segment 6 ({cut_off[6]}) is 100000 bytes but the segment "
                                 f"index says {recorded[6].size}: it was cut off or changed"),
        "job-garbage": ("garbage", "segment 6 (" + str(garbage[6]) + ") is not MPEG-TS"),
        "job-gone": ("gone", f"segment 6 ({gone[6]}) is missing"),
        "job-noisy": ("noisy", "segment 6 cannot be copied: "),
    }
    async with running_clipper(clip_settings) as service:
        await ask_clip(bus, "nobody", "job-unknown", t=12.0, pre=4.0, post=4.0)
        for job, (channel, _) in left_out.items():
            await ask_clip(bus, channel, job, t=12.0, pre=4.0, post=4.0)
        unknown = await wait_finished(bus, "job-unknown")
        finished = {job: await wait_finished(bus, job) for job in left_out}
        await ask_clip(bus, "good", "job-good", t=12.0, pre=4.0, post=4.0)
        good = await wait_finished(bus, "job-good")
        assert not service.done()

    assert unknown.status == "failed" and "unknown channel 'nobody'" in unknown.detail
    assert [p.status for p in await progress_of(bus, "job-unknown")] == ["queued", "failed"]
    assert await redis_client.get(clip_job_key("job-unknown")) == b"failed"
    made = {clip.job_id: clip for clip in await clips(bus)}
    whole = made["job-good"]
    assert good.status == "done" and not whole.partial and Path(whole.video).is_file()
    for job, (channel, reason) in left_out.items():
        assert finished[job].status == "done", finished[job]
        clip = made[job]
        assert clip.channel == channel and clip.partial and Path(clip.video).is_file()
        assert f"left out {reason}" in clip.note, clip.note
        assert video_frames(whole) - 70 < video_frames(clip) < video_frames(whole) - 50  # 2 s
        assert await redis_client.zcard(pins_key(channel)) == 0
    assert "Error parsing ADTS frame header" in made["job-noisy"].note
    assert await redis_client.xlen(DEAD_LETTER_STREAM) == 0
    # No trial files are left beside the clips.
    for clip in made.values():
        assert not list(Path(clip.video).parent.glob(".*part"))
    assert "job=job-unknown" in capsys.readouterr().err


async def test_the_same_job_sent_twice_is_done_once(
    bus: Bus, clip_settings: Settings, recorded: list[Recorded]
) -> None:
    await set_state(bus, "good", "live")
    await publish_segments(bus, "good", recorded[:10], time.time() - 20)
    async with running_clipper(clip_settings):
        await ask_clip(bus, "good", "job-twice", t=12.0, pre=4.0, post=4.0)
        await wait_finished(bus, "job-twice")
        await ask_clip(bus, "good", "job-twice", t=12.0, pre=4.0, post=4.0)
        await ask_clip(bus, "good", "job-after", t=12.0, pre=4.0, post=4.0)
        await wait_finished(bus, "job-after")
    assert sorted(c.job_id for c in await clips(bus)) == ["job-after", "job-twice"]
    assert [p.status for p in await progress_of(bus, "job-twice")].count("queued") == 1
