"""Test pictures and videos for the face worker, made at test time from scikit-image's samples."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data

Picture = npt.NDArray[np.uint8]


def astronaut() -> Picture:
    """Eileen Collins smiling (512x512), as BGR: one face, and a happy one."""
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def coffee() -> Picture:
    """A cup of coffee (400x600), as BGR: no face."""
    return np.ascontiguousarray(data.coffee()[:, :, ::-1])


def three_astronauts() -> Picture:
    """The astronaut's face three times side by side (512x750): three faces."""
    strip = astronaut()[:, 100:350]
    return np.ascontiguousarray(np.hstack([strip, strip, strip]))


def jpeg(picture: Picture) -> bytes:
    ok, encoded = cv2.imencode(".jpg", picture)
    assert ok
    return encoded.tobytes()


def astronaut_video(folder: Path, seconds: float = 4.0, name: str = "astronaut.mp4") -> Path:
    """A still H.264 video of the astronaut, 10 fps, a key frame every 2 s."""
    png = folder / "astronaut.png"
    cv2.imwrite(str(png), astronaut())
    out = folder / name
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "10", "-i", str(png),
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-g", "20", "-force_key_frames", "expr:gte(t,n_forced*2)", str(out)],
        check=True, timeout=60)
    return out


def cut_segments(video: Path, folder: Path, segment_s: float = 2.0) -> list[Path]:
    """Cut a video into MPEG-TS segments by stream copy, as ingest records them."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-map", "0", "-c", "copy", "-f",
         "segment", "-segment_time", str(segment_s), "-segment_format", "mpegts",
         "-reset_timestamps", "1", str(folder / "seg%03d.ts")],
        check=True, timeout=60)
    return sorted(folder.glob("seg*.ts"))
