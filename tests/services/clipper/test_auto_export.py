"""With `export_new_clips` on, the clipper makes a short of each new clip right after it, and
tells its progress as job `export-<clip id>`. Real clipper, real segments, real FFmpeg."""

from __future__ import annotations

import json
import time
from pathlib import Path

from shared.bus import Bus
from shared.contracts import Caption, Word
from shared.settings import Settings
from shared.streams import CAPTIONS
from tests.services.clipper.media import (
    SESSION,
    Recorded,
    ask_clip,
    clips,
    progress_of,
    publish_segments,
    running_clipper,
    set_state,
    wait_finished,
)

CHANNEL = "autochan"


async def test_every_new_clip_gets_a_short_when_the_setting_is_on(
        bus: Bus, clip_settings: Settings, recorded: list[Recorded]) -> None:
    settings = clip_settings.model_copy(update={"export_new_clips": True,
                                                "export_size": "270x480"})
    wall0 = time.time() - 40
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded, wall0)
    await bus.publish(CAPTIONS, Caption(
        channel=CHANNEL, session=SESSION, t=14.0, dur=1.0, wall=wall0 + 14, text="what a shot",
        final=True, words=[Word(text="what", start=14.0, end=14.3),
                           Word(text="a", start=14.3, end=14.5),
                           Word(text="shot", start=14.5, end=15.0)]), channel=CHANNEL)
    async with running_clipper(settings):
        await ask_clip(bus, CHANNEL, "job-a", t=20.0, pre=6.0, post=4.0)
        assert (await wait_finished(bus, "job-a")).status == "done"
        [clip] = await clips(bus)
        last = await wait_finished(bus, f"export-{clip.clip_id}", timeout=90.0)
    assert last.status == "done", last.detail
    steps = await progress_of(bus, f"export-{clip.clip_id}")
    assert steps[0].status == "queued" and [s.percent for s in steps][-1] == 100
    sidecar = json.loads(Path(clip.metadata).read_text())
    [short] = sidecar["exports"]
    assert short["size"] == "270x480" and short["words"] == 3
    assert Path(short["video"]).stat().st_size > 5_000 and Path(short["thumbnail"]).is_file()


async def test_no_short_when_the_setting_is_off(
        bus: Bus, clip_settings: Settings, recorded: list[Recorded]) -> None:
    wall0 = time.time() - 40
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded, wall0)
    async with running_clipper(clip_settings):
        await ask_clip(bus, CHANNEL, "job-b", t=20.0, pre=4.0, post=2.0)
        assert (await wait_finished(bus, "job-b")).status == "done"
    [clip] = await clips(bus)
    assert await progress_of(bus, f"export-{clip.clip_id}") == []
    assert "exports" not in json.loads(Path(clip.metadata).read_text())
