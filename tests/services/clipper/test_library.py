"""The clip library comes back from the disk when Redis lost it: real clips made by the clipper
(real FFmpeg, real Redis), one of them judged, then Redis emptied and the clipper started again."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from services.api.clipdata import ClipFilter, list_clips
from services.clipper.library import records_on_disk
from services.clipper.store import restore_records
from shared.bus import Bus
from shared.feedback import judge_clip
from shared.settings import Settings
from shared.streams import clip_key
from tests.services.clipper.media import (
    Recorded,
    ask_clip,
    clips,
    publish_segments,
    running_clipper,
    set_state,
    wait_finished,
    wait_until,
)

CHANNEL = "testchan"


async def _library(redis: Redis) -> dict[str, dict[str, Any]]:
    """Every clip the API would list, with its whole record (JSON values read, as the order
    of keys inside one may differ)."""
    total, listed = await list_clips(redis, ClipFilter(), 0, 100)
    assert total == len(listed)
    return {c.clip_id: {k.decode(): _value(v)
                        for k, v in (await redis.hgetall(clip_key(c.clip_id))).items()}
            for c in listed}


def _value(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()


async def test_a_clipper_puts_back_the_clip_records_that_redis_lost(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded],
) -> None:
    wall0 = time.time() - 40
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded, wall0)
    async with running_clipper(clip_settings):
        for job, t in (("job-1", 8.0), ("job-2", 30.0)):
            await ask_clip(bus, CHANNEL, job, t=t, pre=4.0, post=4.0)
            assert (await wait_finished(bus, job)).status == "done"
    made = await clips(bus)
    kept = await judge_clip(redis_client, clip_settings, made[0].clip_id, "keep")
    assert kept.video and kept.video.parent.parent.name == "keep"
    before = await _library(redis_client)
    assert len(before) == 2 and before[made[0].clip_id]["verdict"] == "keep"

    # Beside them: an empty claim a dead job left, and a file that is no clip's record.
    folder = clip_settings.data_dir / "clips" / CHANNEL
    (folder / "clip_20990101T000000Z.json").write_text("")
    (folder / "clip_20990101T000001Z.json").write_text('{"not": "a clip"}')

    await redis_client.flushdb()  # Redis lost everything.
    assert await _library(redis_client) == {}
    async with running_clipper(clip_settings):  # At its start: the same records, verdict too.
        async def restored() -> bool:
            return await _library(redis_client) == before

        await wait_until(restored, 20)

    # A record Redis has is left as it is.
    await redis_client.hset(clip_key(made[1].clip_id), "title", "named by the user")
    on_disk = records_on_disk(clip_settings.data_dir)
    assert len(on_disk) == 2 and await restore_records(redis_client, on_disk) == 0
    assert await redis_client.hget(clip_key(made[1].clip_id), "title") == b"named by the user"


def test_a_data_folder_that_moved_still_finds_each_clips_files(
    tmp_path: Path, settings: Settings,
) -> None:
    old = settings.data_dir / "keep" / CHANNEL
    old.mkdir(parents=True)
    sidecar: dict[str, Any] = {"clip_id": f"{CHANNEL}-clip_1", "wall": 5.0, "channel": CHANNEL}
    for field, suffix in (("video", ".mp4"), ("captions", ".srt"), ("metadata", ".json")):
        sidecar[field] = str(old / f"clip_1{suffix}")
        if suffix != ".json":
            (old / f"clip_1{suffix}").write_bytes(b"x")
    sidecar["thumbnail"] = str(old / "clip_1.jpg")  # never made: stays as it was
    (old / "clip_1.json").write_text(json.dumps(sidecar))
    moved = tmp_path / "elsewhere"
    shutil.copytree(settings.data_dir, moved)
    [record] = records_on_disk(moved)
    here = moved / "keep" / CHANNEL
    assert record.clip_id == f"{CHANNEL}-clip_1" and record.wall == 5.0
    assert record.sidecar["video"] == str(here / "clip_1.mp4")
    assert record.sidecar["captions"] == str(here / "clip_1.srt")
    assert record.sidecar["metadata"] == str(here / "clip_1.json")
    assert record.sidecar["thumbnail"] == str(old / "clip_1.jpg")
