"""Each clip says why it was made and has a picture: the fuser's reasons travel in the clip job
to the Clip message and the `.json` sidecar, a manual clip says "manual", and the clipper takes
a real JPEG from the clip at the spike (real Redis, real FFmpeg)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image

from services.fuser.decider import why_of
from shared.bus import Bus
from shared.contracts import ClipRequest, Spike
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, clip_key
from tests.services.clipper.media import (
    SESSION,
    Recorded,
    clips,
    ffprobe,
    publish_segments,
    running_clipper,
    set_state,
    wait_finished,
)

CHANNEL = "whychan"
SPIKE = Spike(channel=CHANNEL, session=SESSION, t=21.0, dur=1.0, wall=0.0, probability=0.93,
              contributions={"loud_z": 1.7, "motion_z": 0.9, "chat_rate_z": -0.2},
              votes={"chat": True, "voice": True, "face": False}, trigger="two_votes",
              job_id="job-why")


def frame_at(video: Path, at: float, size: tuple[int, int]) -> np.ndarray:
    """The clip's picture at `at` seconds, decoded by FFmpeg at `size`, as RGB numbers."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-ss", f"{at:.3f}", "-i", str(video),
         "-frames:v", "1", "-vf", f"scale={size[0]}:{size[1]}", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(float)


async def test_the_sidecar_says_why_and_the_thumbnail_is_a_real_jpeg_of_the_spike(
    bus: Bus, clip_settings: Settings, recorded: list[Recorded]
) -> None:
    wall0 = time.time() - 40
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded, wall0)
    fuser_job = ClipRequest(channel=CHANNEL, job_id="job-why", session=SESSION, t=SPIKE.t,
                            pre=10.0, post=10.0, reason=SPIKE.trigger, wall=time.time(),
                            why=why_of(SPIKE))
    manual_job = ClipRequest(channel=CHANNEL, job_id="job-manual", t=6.0, pre=4.0, post=4.0,
                             wall=time.time())
    async with running_clipper(clip_settings):
        await bus.publish(CLIP_REQUESTS, fuser_job)
        await bus.publish(CLIP_REQUESTS, manual_job)
        for job in ("job-why", "job-manual"):
            last = await wait_finished(bus, job)
            assert last.status == "done", last.detail
    made = {c.job_id: c for c in await clips(bus)}

    clip = made["job-why"]
    expected = {"trigger": "two_votes", "t": 21.0, "probability": 0.93,
                "votes": {"chat": True, "voice": True, "face": False},
                "contributions": {"loud_z": 1.7, "motion_z": 0.9, "chat_rate_z": -0.2},
                "model": None}  # the request named no model
    assert clip.why is not None and clip.why.model_dump() == expected
    sidecar = json.loads(Path(clip.metadata).read_text())
    assert sidecar["why"] == expected and sidecar["reason"] == "two_votes"
    assert sidecar["thumbnail"] == clip.thumbnail
    record = await bus.redis.hgetall(clip_key(clip.clip_id))
    assert json.loads(record[b"why"]) == expected
    assert record[b"thumbnail"].decode() == clip.thumbnail

    # The picture: a real JPEG beside the clip, 320 wide in the clip's 16:9 shape.
    picture = Path(clip.thumbnail)
    assert picture == Path(clip.video).with_suffix(".jpg") and picture.is_file()
    data = picture.read_bytes()
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"
    with Image.open(picture) as image:
        assert image.format == "JPEG" and image.size == (320, 180)
        image.load()  # decodes the whole picture: fails on a broken file
        shown = np.asarray(image.convert("RGB"), dtype=float)
    [stream] = ffprobe(picture)["streams"]
    assert stream["codec_name"] == "mjpeg" and (stream["width"], stream["height"]) == (320, 180)
    # It is the spike's moment (the test picture changes every frame), not the clip's start.
    at_spike = frame_at(Path(clip.video), SPIKE.t - clip.start, (320, 180))
    at_start = frame_at(Path(clip.video), 0.0, (320, 180))
    near, far = np.abs(shown - at_spike).mean(), np.abs(shown - at_start).mean()
    assert near < 6 and far > 2 * near, (near, far)

    # A clip asked for by hand says so.
    manual = made["job-manual"]
    manual_sidecar = json.loads(Path(manual.metadata).read_text())
    assert manual_sidecar["why"] == {"trigger": "manual", "t": 6.0, "probability": None,
                                     "votes": {}, "contributions": {}, "model": None}
    assert Path(manual.thumbnail).is_file() and manual.thumbnail.endswith(".jpg")
