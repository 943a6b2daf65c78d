"""Bad input fails the job with a clear reason, and the clipper goes on with the next job."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

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


async def test_bad_segments_and_unknown_channels_fail_clearly_and_the_clipper_goes_on(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    wall0 = time.time() - 20
    cut_off = await publish_copies(bus, "cutoff", recorded, tmp_path / "cutoff", wall0)
    with cut_off[6].open("r+b") as file:  # a segment cut off in the middle of a packet
        file.truncate(100_000)
    garbage = await publish_copies(bus, "garbage", recorded, tmp_path / "garbage", wall0)
    garbage[6].write_bytes(b"\0" * recorded[6].size)  # the right size, but not MPEG-TS
    gone = await publish_copies(bus, "gone", recorded, tmp_path / "gone", wall0)
    gone[6].unlink()  # the ring buffer lost it
    await set_state(bus, "good", "live")
    await publish_segments(bus, "good", recorded[:10], wall0)

    expected = {
        "job-unknown": ("nobody", "unknown channel 'nobody'"),
        "job-cutoff": ("cutoff", f"segment 6 ({cut_off[6]}) is 100000 bytes but the segment "
                                 f"index says {recorded[6].size}: it was cut off or changed"),
        "job-garbage": ("garbage", "segment 6 (" + str(garbage[6]) + ") is not MPEG-TS"),
        "job-gone": ("gone", f"segment 6 ({gone[6]}) is missing"),
    }
    async with running_clipper(clip_settings) as service:
        for job, (channel, _) in expected.items():
            await ask_clip(bus, channel, job, t=12.0, pre=4.0, post=4.0)
        failed = {job: await wait_finished(bus, job) for job in expected}
        await ask_clip(bus, "good", "job-good", t=12.0, pre=4.0, post=4.0)
        good = await wait_finished(bus, "job-good")
        assert not service.done()

    for job, (channel, detail) in expected.items():
        assert failed[job].status == "failed", failed[job]
        assert failed[job].channel == channel
        assert detail in failed[job].detail, failed[job].detail
        assert await redis_client.zcard(pins_key(channel)) == 0
        assert await redis_client.get(clip_job_key(job)) == b"failed"
    assert [p.status for p in await progress_of(bus, "job-unknown")] == ["queued", "failed"]
    assert good.status == "done", good.detail
    [clip] = await clips(bus)
    assert clip.job_id == "job-good" and Path(clip.video).is_file()
    # A failed job leaves no half-made clip behind, and nothing went to the dead letters.
    for channel in ("cutoff", "garbage", "gone"):
        folder = clip_settings.data_dir / "clips" / channel
        assert not folder.exists() or not any(folder.iterdir())
    assert await redis_client.xlen(DEAD_LETTER_STREAM) == 0
    logged = capsys.readouterr().err
    assert "clip job failed: segment 6" in logged and "job=job-cutoff" in logged


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
