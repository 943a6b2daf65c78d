"""Audio features and motion: CPU milliseconds per second of stream.

Audio: 0.5 s chunks of a voice-like signal (a gliding tone with noise) through `extract`.
Motion: 20 s of a realistic 720p30 stream (a grainy busy picture at about 3.5 Mbit/s with
B-frames, key frames every 2 s, as Twitch sends; `bench.node_capacity.stream_file`), cut into
2 s segments as ingest records them, through `analyse_segment` with and without the 2 fps
JPEGs for the face worker. The floor: one FFmpeg process decoding the same segments the same
cheap way (motion vectors on, B-frames skipped, one thread), in the same run. Targets: <= 15
ms and <= 60 ms per stream-second.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.node_capacity import stream_file
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


def motion_numbers(folder: Path, seconds: int = 20) -> dict[str, float]:
    source = stream_file(folder, seconds)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-map", "0:v", "-c", "copy",
                    "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1",
                    str(folder / "seg%03d.ts")], check=True)
    segments = sorted(folder.glob("seg*.ts"))
    analyse_segment(segments[0], 0.0)  # warm the decoder once

    def cpu_ms(sample_fps: float) -> float:
        start = time.process_time()
        for i, segment in enumerate(segments):
            analyse_segment(segment, 2.0 * i, sample_fps=sample_fps)
        return (time.process_time() - start) * 1000 / seconds

    with_jpegs, without = cpu_ms(2.0), cpu_ms(0.0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["ffmpeg", "-v", "error", "-flags2", "+export_mvs", "-skip_frame", "bidir",
                    "-threads", "1", "-i", f"concat:{'|'.join(map(str, segments))}",
                    "-f", "null", "-"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    floor = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000 / seconds
    return {"motion_720p30_cpu_ms_per_stream_s": with_jpegs,
            "motion_720p30_without_jpegs_ms_per_stream_s": without,
            "motion_ffmpeg_decode_floor_ms_per_stream_s": floor,
            "motion_over_floor": with_jpegs / floor}


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        return {"audio_features_cpu_ms_per_stream_s": audio_ms_per_stream_s(),
                **motion_numbers(Path(tmp))}
