"""Face reaches the decision: with sound arriving in half seconds and video in 2 s segments (as
a live stream delivers them), the real motion, face and fuser workers put the face in nearly
every events row, and an excited face votes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.face.service import main as face_main
from services.fuser.service import main as fuser_main
from services.motion.service import main as motion_main
from shared.bus import Bus
from shared.contracts import AudioFeatures, EventRow, Segment
from shared.settings import Settings
from shared.streams import AUDIO_FEATURES, EVENTS, SEGMENTS
from tests.services.face.media import astronaut_video, cut_segments
from tests.services.face.running import running, wait_until
from tests.services.face.test_service import register

SECONDS = 48
SPEED = 4.0
"""The stream plays this many times faster than real time, to keep the test short."""


def sound(t: float, wall: float) -> AudioFeatures:
    return AudioFeatures(channel="astro", session="s1", t=t, dur=0.5, wall=wall, loud_db=-30.0,
                         peak_db=-10.0, f0_mean=150.0, f0_var=2.0, voiced_ratio=0.5,
                         centroid=1500.0, onset_mean=1.0, onset_max=2.0, clipped_ratio=0.0)


@pytest.mark.timeout(180)
async def test_face_is_in_nearly_every_row_and_votes_when_excited(
        settings: Settings, bus: Bus, redis_client: Redis, tmp_path: Path) -> None:
    segments = cut_segments(astronaut_video(tmp_path, seconds=SECONDS), tmp_path / "segments")
    await register(redis_client, "astro", "s1")
    async with running(settings, motion=motion_main, face=face_main, fuser=fuser_main):
        start = time.time()
        for half in range(2 * SECONDS):  # sound every half second, a segment every 2 s
            t = half / 2
            await bus.publish(AUDIO_FEATURES, sound(t, start + t), channel="astro")
            if half % 4 == 3:
                seq = half // 4
                path = segments[seq]
                await bus.publish(SEGMENTS, Segment(
                    channel="astro", session="s1", t=2.0 * seq, dur=2.0, wall=start + 2 * seq,
                    seq=seq, path=str(path), size=path.stat().st_size), channel="astro")
            await asyncio.sleep(0.5 / SPEED)

        async def rows() -> list[EventRow]:
            found = [d.message for d in await bus.read(EVENTS, channel="astro", count=1000)]
            return found if len(found) >= SECONDS - 2 else []

        written = await wait_until(rows, 60, "the events rows")
    with_face = [r for r in written if "face" not in r.missing]
    assert len(with_face) >= 0.95 * len(written), [r.t for r in written if r not in with_face]
    assert all(r.votes["face"] for r in with_face)  # the astronaut smiles: excited
    assert all((r.features["face_excitement"] or 0) > 0.5 for r in with_face)
