"""Audio features and motion: CPU milliseconds per second of stream.

Audio: 0.5 s chunks of a voice-like signal (a gliding tone with noise) through `extract`.
Motion: a 10 s 720p30 H.264 clip with B-frames (a textured picture panning 4 px/frame) through
`analyse_segment`, which also makes the 2 fps JPEGs for the face worker. Targets: <= 15 ms and
<= 60 ms per stream-second.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from services.audio_features.features import extract, warm_up
from services.motion.vectors import analyse_segment

SR = 16_000


def audio_ms_per_stream_s(seconds: int = 60) -> float:
    warm_up()
    rng = np.random.default_rng(0)
    t = np.arange(seconds * SR) / SR
    voice = 0.3 * np.sin(2 * np.pi * (150 + 40 * np.sin(t)) * t) + 0.02 * rng.normal(size=t.size)
    chunks = voice.astype(np.float32).reshape(-1, SR // 2)
    start = time.process_time()
    for chunk in chunks:
        extract(chunk)
    return (time.process_time() - start) * 1000 / seconds


def motion_ms_per_stream_s(folder: Path, seconds: int = 10) -> float:
    clip = folder / "pan720.ts"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=2560x720:rate=30:duration={seconds}", "-vf",
         "crop=1280:720:x='4*n':y=0", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2",
         "-g", "60", str(clip)], check=True)
    analyse_segment(clip, 0.0)  # warm the decoder once
    start = time.process_time()
    analyse_segment(clip, 0.0)
    return (time.process_time() - start) * 1000 / seconds


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "audio_features_cpu_ms_per_stream_s": audio_ms_per_stream_s(),
            "motion_720p30_cpu_ms_per_stream_s": motion_ms_per_stream_s(Path(tmp)),
        }
