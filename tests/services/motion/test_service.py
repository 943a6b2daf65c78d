"""motion on a real live stream: motion for every second of stream time, frames for the face
worker, and a corrupt segment skipped with a logged error and a gap, not a crash."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from launcher.live_hls import LiveHls
from services.motion import service
from services.motion.worker import WORKER
from shared.bus import Bus
from shared.contracts import Segment
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import FRAMES, GAPS, MOTION, SEGMENTS
from tests.services.ingest.support import command, messages, quick, running_ingest
from tests.support import Records, wait_until


@pytest.mark.timeout(120)
async def test_motion_for_every_second_and_frames_and_a_corrupt_segment_is_a_gap(
    settings: Settings, bus: Bus, live_hls: LiveHls, tmp_path: Path
) -> None:
    settings = quick(settings)
    worker = asyncio.create_task(run_service(WORKER, service.main, settings))
    try:
        async with running_ingest(settings):
            await command(bus, "mot", "start", live_hls.url)

            async def enough() -> bool:
                return len(await messages(bus, MOTION, "mot")) >= 8

            await wait_until(enough, 60, "8 s of motion")
            # A broken segment arrives in the index: it must become a gap, and work go on.
            garbage = tmp_path / "broken.ts"
            garbage.write_bytes(b"\x47" + b"not video at all" * 500)
            last = (await messages(bus, SEGMENTS, "mot"))[-1]
            with Records("clip_live.motion") as logs:
                await bus.publish(SEGMENTS, Segment(
                    channel="mot", session=last.session, t=last.t + 1000, dur=2.0,
                    wall=time.time(), seq=99_999, path=str(garbage), size=8001), channel="mot")

                async def gap() -> bool:
                    return bool(await messages(bus, GAPS, "mot"))

                await wait_until(gap, 30, "a gap for the broken segment")
            before = len(await messages(bus, MOTION, "mot"))

            async def more() -> bool:
                return len(await messages(bus, MOTION, "mot")) > before + 2

            await wait_until(more, 30, "motion after the broken segment")
            await command(bus, "mot", "stop")
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert not worker.done() or worker.cancelled()
    assert any("cannot be decoded" in m for m in logs.messages("ERROR"))
    [gap] = await messages(bus, GAPS, "mot")
    assert "unreadable" in gap.reason
    seconds = sorted(m.t for m in await messages(bus, MOTION, "mot") if m.dur >= 0.5)
    whole = [round(t) for t in seconds]
    assert whole == list(range(whole[0], whole[0] + len(whole)))  # no second missing
    frames = await messages(bus, FRAMES, "mot")
    assert len(frames) >= 2 * len(whole) - 4  # about two frames a second
    assert all(f.height <= 480 for f in frames)
