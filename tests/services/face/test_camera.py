"""Frames from a local camera. There is no camera here, so a video file stands in for one
(OpenCV opens both the same way), and a missing device shows the error path."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.face.camera import CameraClock, CameraError, open_camera, read_frame
from services.face.service import main as face_main
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, FaceSecond
from shared.settings import Settings
from shared.streams import FACE
from tests.services.face.media import astronaut_video
from tests.services.face.running import Records, running, wait_until


def test_a_missing_camera_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="camera /dev/video-nope: no such device"):
        open_camera("/dev/video-nope")
    not_video = tmp_path / "notes.txt"
    not_video.write_text("not a video\n")
    with pytest.raises(CameraError, match=f"camera {not_video}: cannot be opened"):
        open_camera(str(not_video))
    with pytest.raises(CameraError, match="no camera named"):
        open_camera("")


def test_frames_are_read_until_the_source_ends(tmp_path: Path) -> None:
    video = astronaut_video(tmp_path, seconds=0.5)  # 5 frames at 10 fps
    capture = open_camera(str(video))
    try:
        pictures = [read_frame(capture, "cam") for _ in range(5)]
        assert all(p.shape == (480, 480, 3) for p in pictures)  # 512 px shrunk to 480
        with pytest.raises(CameraError, match="camera cam: gave no frame"):
            read_frame(capture, "cam")
    finally:
        capture.release()


def test_the_camera_clock_follows_wall_time() -> None:
    clock = CameraClock("s1", t0=100.0, wall0=5000.0)
    assert clock.t(5002.5) == 102.5
    assert clock.t(4000.0) == 0.0  # never before the session start


@pytest.mark.timeout(60)
async def test_a_missing_camera_is_logged_and_the_worker_keeps_running(
        settings: Settings) -> None:
    with Records("clip_live.face") as logs:
        async with running(settings.model_copy(update={"face_camera": "/dev/video-nope"}),
                           face=face_main) as tasks:
            errors = await wait_until(lambda: asyncio.sleep(0, logs.messages("ERROR")))
            await asyncio.sleep(0.3)
            assert not tasks["face"].done()
    assert "camera /dev/video-nope: no such device; trying again in 5 s" in errors[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("watched", [False, True], ids=["own-session", "ingest-session"])
async def test_a_camera_showing_a_smiling_face_gives_happy_seconds(
        settings: Settings, bus: Bus, redis_client: Redis, tmp_path: Path, watched: bool) -> None:
    video = astronaut_video(tmp_path, seconds=4.0)
    if watched:  # ingest watches the channel too: the camera joins its session and clock
        await save_state(redis_client, ChannelState(
            channel="cam", session="live-1", state="live", url="x", t=50.0, wall=time.time()))
    camera = settings.model_copy(update={"face_camera": str(video),
                                         "face_camera_channel": "cam"})
    async with running(camera, face=face_main):
        async def a_second() -> list[FaceSecond]:
            return [d.message for d in await bus.read(FACE, channel="cam")]

        seconds = await wait_until(a_second)
    first = seconds[0]
    if watched:
        assert first.session == "live-1" and 50.0 <= first.t < 60.0
    else:
        assert first.session.startswith("camera-") and first.t == 0.0
    assert first.present and first.dominant == "happy"
